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
			if pc, sc := pattern[p], s[i]; pc < utf8.RuneSelf && sc < utf8.RuneSelf {
				// ASCII fast path (most methods, paths and hosts).
				if pc == '*' {
					starP, starI = p, i
					p++
					continue
				}
				if pc == '?' || lowerASCII[pc] == lowerASCII[sc] {
					p++
					i++
					continue
				}
			} else {
				pr, pw := decode(pattern, p)
				sr, sw := decode(s, i)
				if pr == '*' {
					starP, starI = p, i
					p += pw
					continue
				}
				if pr == '?' || equalFold(pr, sr) {
					p += pw
					i += sw
					continue
				}
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

// lowerASCII maps ASCII bytes to lower case.
var lowerASCII = func() (t [utf8.RuneSelf]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] += 'a' - 'A'
		}
	}
	return t
}()

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

// matchField matches a request property against a rule pattern. A property
// the request lacks (empty) matches only "*", as in OTel Go's X-Ray sampler;
// the X-Ray Go SDK lets it match any pattern, which would make a rule for
// "/api/*" capture every background job and gRPC call.
func matchField(pattern, value string) bool {
	return wildcardMatch(pattern, value)
}
