package xraysampling

import (
	"unicode"
	"unicode/utf8"
)

// wildcardMatch reports whether s matches pattern, where '*' matches any run
// of characters (including none) and '?' exactly one character, comparing
// case-insensitively (simple Unicode folding). It allocates nothing: the
// classic two-pointer algorithm that backtracks only to the last '*', so the
// cost is O(len(pattern)·len(s)) in the worst case and linear in practice.
func wildcardMatch(pattern, s string) bool {
	if pattern == "*" {
		return true
	}
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			pc, pw := decode(pattern, p)
			sc, sw := decode(s, i)
			switch {
			case pc == '*':
				starP, starI = p, i
				p += pw
				continue
			case pc == '?' || equalFold(pc, sc):
				p += pw
				i += sw
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' swallow one more character of s and retry.
		_, sw := decode(s, starI)
		starI += sw
		i = starI
		p = starP + 1
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// decode returns the rune at s[i] and its width; ASCII takes the fast path.
func decode(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func equalFold(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	// Walk a's case-folding orbit (as strings.EqualFold does).
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// matchField is the X-Ray SDK rule: an empty request value matches any
// pattern (the request simply lacks that property, e.g. a non-HTTP span).
func matchField(pattern, value string) bool {
	return value == "" || wildcardMatch(pattern, value)
}
