package grpcmw

import "math/rand/v2"

// maxRequestIDLen bounds an accepted incoming x-request-id.
const maxRequestIDLen = 128

// validRequestID accepts 1–128 characters from [A-Za-z0-9._:/+=@-]: enough for
// UUIDs, ULIDs, X-Ray ids and load-balancer ids, and nothing that could break
// a log line or a header.
func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':', c == '/', c == '+', c == '=', c == '@':
		default:
			return false
		}
	}
	return true
}

// fillRequestID writes a new request id (32 random lowercase hex digits)
// into b. Request ids need to be unique, not secret, so the runtime's fast
// per-thread generator suffices.
func fillRequestID(b *[32]byte) {
	const hex = "0123456789abcdef"
	a, c := rand.Uint64(), rand.Uint64()
	for i := 0; i < 16; i++ {
		b[i] = hex[a&0xF]
		b[16+i] = hex[c&0xF]
		a >>= 4
		c >>= 4
	}
}
