package metrics

import (
	"math"
	"strings"
)

// Limits applied before encoding; see the package documentation.
const (
	maxDimKeyLen   = 250
	maxDimValueLen = 1024
	maxNameLen     = 255
	maxDimKeys     = 30
	maxMetrics     = 100
	maxValues      = 100
	// maxPropLen caps one string property so a document always fits a line.
	maxPropLen = 2048
)

var (
	maxMagnitude = math.Ldexp(1, 360)
	minMagnitude = math.Ldexp(1, -360)
)

// printable replaces every byte outside printable ASCII (and every multi-byte
// UTF-8 sequence) with '_' and cuts the result to max bytes. changed reports
// whether anything was replaced or cut. It allocates only when it changes s.
func printable(s string, max int) (out string, changed bool) {
	ok := len(s) <= max
	if ok {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e {
				ok = false
				break
			}
		}
	}
	if ok {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	for i := 0; i < len(s) && b.Len() < max; {
		c := s[i]
		switch {
		case c >= 0x20 && c <= 0x7e:
			b.WriteByte(c)
			i++
		case c < 0x80:
			b.WriteByte('_')
			i++
		default: // skip the whole UTF-8 sequence (or one invalid byte)
			b.WriteByte('_')
			i++
			for i < len(s) && s[i]&0xC0 == 0x80 {
				i++
			}
		}
	}
	return b.String(), true
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// sanitizeDimValue makes v a valid dimension value: printable ASCII, 1..1024
// bytes, not blank ("unknown" replaces a blank value).
func sanitizeDimValue(v string) (string, bool) {
	out, changed := printable(v, maxDimValueLen)
	if blank(out) {
		return "unknown", true
	}
	return out, changed
}

// sanitizeDimKey makes k a valid dimension key: printable ASCII, 1..250
// bytes, not blank, not starting with ':'.
func sanitizeDimKey(k string) (string, bool) {
	out, changed := printable(k, maxDimKeyLen)
	if blank(out) {
		return "unknown", true
	}
	if out[0] == ':' {
		return "_" + out[1:], true
	}
	return out, changed
}

// sanitizeName makes n a valid metric name: printable ASCII, 1..255 bytes,
// not blank, not "_aws".
func sanitizeName(n string) (string, bool) {
	out, changed := printable(n, maxNameLen)
	if blank(out) {
		return "unnamed", true
	}
	if out == "_aws" {
		return "aws_", true
	}
	return out, changed
}

// cleanValue reports whether v can be published: finite and |v| ≤ 2^360.
// Magnitudes below 2^-360 are rounded to zero.
func cleanValue(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	a := math.Abs(v)
	if a > maxMagnitude {
		return 0, false
	}
	if a != 0 && a < minMagnitude {
		return 0, true
	}
	return v, true
}
