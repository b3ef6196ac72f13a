package otlpexport

import (
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRetryAfter: a collector's Retry-After header is untrusted; the wait
// it yields must stay within [0, 1 minute].
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "1", "120", "-5", "99999999999999999999", "9223372036854775807",
		"Wed, 21 Oct 2099 07:28:00 GMT", "Mon, 01 Jan 2001 00:00:00 GMT", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := retryAfter(v)
		if d < 0 || d > time.Minute {
			t.Fatalf("retryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzSnippet: an error body is untrusted; what reaches an error message is
// short, printable ASCII.
func FuzzSnippet(f *testing.F) {
	f.Add([]byte("malformed request"))
	f.Add([]byte{0x08, 0x03, 0x12, 0x05, 'h', 'e', 'l', 'l', 'o', 0xff, '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := snippet(b)
		if len(s) > 200 || !utf8.ValidString(s) {
			t.Fatalf("snippet = %q", s)
		}
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] >= 0x7f {
				t.Fatalf("unprintable byte %#x in %q", s[i], s)
			}
		}
	})
}
