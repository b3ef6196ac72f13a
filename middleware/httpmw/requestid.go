package httpmw

import "math/rand/v2"

// MaxRequestIDLen is the longest incoming request id accepted.
const MaxRequestIDLen = 128

// ValidRequestID reports whether an incoming request id is kept: 1 to 128
// characters of [A-Za-z0-9._:-]. Anything else (including ids that could
// forge log fields or smuggle markup) is replaced by a generated id.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendRequestID appends a new request id: 32 hex digits of randomness.
// math/rand/v2's runtime generator is lock-free and allocation-free; request
// ids need uniqueness, not secrecy.
func appendRequestID(dst []byte) []byte {
	for _, u := range [2]uint64{rand.Uint64(), rand.Uint64()} {
		for i := 60; i >= 0; i -= 4 {
			dst = append(dst, hexDigits[(u>>uint(i))&0xF])
		}
	}
	return dst
}

// NewRequestID returns a new request id as the middleware generates it.
func NewRequestID() string {
	var b [32]byte
	return string(appendRequestID(b[:0]))
}
