package mwcore

import "math/rand/v2"

// Request id header (HTTP) and metadata key (gRPC, lowercase on the wire).
const (
	RequestIDHeader = "X-Request-Id"
	RequestIDKey    = "x-request-id"
)

// MaxRequestIDLen is the longest incoming request id kept.
const MaxRequestIDLen = 128

// ValidRequestID reports whether an incoming request id is kept: 1 to 128
// characters of [A-Za-z0-9._:/+=@-]. The set covers UUIDs, ULIDs, X-Ray
// trace ids, base64 and load-balancer ids; every character is valid as is
// in an HTTP header value, in ASCII gRPC metadata and inside a JSON string
// (no quote, backslash, space or control character), so an id accepted by
// one service is accepted unchanged by every service it is forwarded to, over
// HTTP or gRPC. Anything else (including ids that could forge log fields) is
// replaced by a generated id.
func ValidRequestID(id string) bool {
	if len(id) == 0 || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !idByte[id[i]] {
			return false
		}
	}
	return true
}

var idByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "._:/+=@-" {
		t[c] = true
	}
	return t
}()

// GeneratedRequestIDLen is the length of a generated request id.
const GeneratedRequestIDLen = 32

const hexDigits = "0123456789abcdef"

// AppendRequestID appends a new request id: 32 lowercase hex digits of
// randomness. math/rand/v2's runtime generator is lock-free and
// allocation-free; request ids need uniqueness, not secrecy.
func AppendRequestID(dst []byte) []byte {
	var b [GeneratedRequestIDLen]byte // filled in place, appended at once
	hi, lo := rand.Uint64(), rand.Uint64()
	for i := GeneratedRequestIDLen/2 - 1; i >= 0; i-- {
		b[i] = hexDigits[hi&0xF]
		b[GeneratedRequestIDLen/2+i] = hexDigits[lo&0xF]
		hi >>= 4
		lo >>= 4
	}
	return append(dst, b[:]...)
}

// NewRequestID returns a new request id (allocates its string).
func NewRequestID() string {
	var b [GeneratedRequestIDLen]byte
	return string(AppendRequestID(b[:0]))
}
