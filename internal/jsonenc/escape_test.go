package jsonenc

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refAppendStringContents is the byte-wise escaper as it was before the
// word-at-a-time prefix scan (and before tracing/xrayudp's own copy of that
// scan moved here): the differential tests hold the fast path to its output.
func refAppendStringContents(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// refPlainPrefix is PlainPrefix one byte at a time.
func refPlainPrefix(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || !safe[s[i]] {
			return i
		}
	}
	return len(s)
}

// escapeSeeds put every byte value at every position of a word, plus the
// cases each branch of the escaper handles.
func escapeSeeds() []string {
	seeds := []string{"", "a", "GET", "https://api.example.com/orders/42", "12345678", "1234567\"", "\"1234567",
		"abcdefgh\\ijk", "abcdefghij\x01", "abcdefgh\x7f", "héllo wörld", "abcdefgh\xff", "\u2028abcdefgh",
		"abcdefgh\u2029", strings.Repeat("x", 300), "abcdefg!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~", " \x1f\x20\x21"}
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 17; pos++ {
			seeds = append(seeds, strings.Repeat("a", pos)+string([]byte{byte(b)})+"bcdefghij"[:pos%9])
		}
	}
	return seeds
}

func TestEscaperMatchesReference(t *testing.T) {
	for _, s := range escapeSeeds() {
		require.Equal(t, string(refAppendStringContents(nil, s)), string(AppendStringContents(nil, s)), "%q", s)
		require.Equal(t, refPlainPrefix(s), PlainPrefix(s), "%q", s)
		checkEscapedLen(t, s)
	}
}

// FuzzEscaperMatchesReference: the fast escaper writes exactly what the
// byte-wise one wrote, PlainPrefix agrees with a byte-wise scan, and
// EscapedLen predicts AppendStringContents rune by rune.
func FuzzEscaperMatchesReference(f *testing.F) {
	for _, s := range escapeSeeds()[:40] {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, string(refAppendStringContents(nil, s)), string(AppendStringContents(nil, s)), "%q", s)
		require.Equal(t, refPlainPrefix(s), PlainPrefix(s), "%q", s)
		checkEscapedLen(t, s)
		for _, limit := range []int{0, 16, 20, 64} {
			out := AppendStringBounded(nil, s, limit, "…[cut]")
			if len(AppendString(nil, s)) <= limit {
				require.Equal(t, string(AppendString(nil, s)), string(out))
				continue
			}
			require.True(t, strings.HasSuffix(string(out), `…[cut]"`), "%q", out)
			require.LessOrEqual(t, len(out), max(limit, 2+len("…[cut]")), "%q", out)
		}
	})
}

func checkEscapedLen(t *testing.T, s string) {
	t.Helper()
	total := 0
	for i := 0; i < len(s); {
		o, n := EscapedLen(s, i)
		require.Equal(t, len(AppendStringContents(nil, s[i:i+n])), o, "%q at %d", s, i)
		total += o
		i += n
	}
	require.Equal(t, len(AppendStringContents(nil, s)), total, "%q", s)
}

func TestAppendStringBounded(t *testing.T) {
	const marker = "…[truncated]"
	tests := []struct {
		s     string
		limit int
		want  string
	}{
		{"short", 100, `"short"`},
		{strings.Repeat("a", 40), 42, `"` + strings.Repeat("a", 40) + `"`},
		{strings.Repeat("a", 41), 42, `"` + strings.Repeat("a", 42-2-len(marker)) + marker + `"`},
		{strings.Repeat("\n", 21), 42, `"` + strings.Repeat(`\n`, (42-2-len(marker))/2) + marker + `"`},
		{"é" + strings.Repeat("a", 40), 42, `"é` + strings.Repeat("a", 42-2-len(marker)-2) + marker + `"`},
	}
	for _, tc := range tests {
		got := string(AppendStringBounded(nil, tc.s, tc.limit, marker))
		assert.Equal(t, tc.want, got, "%q", tc.s)
		assert.LessOrEqual(t, len(got), tc.limit)
	}
}

func TestEscaperAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "GET /orders/{id} from 203.0.113.7 \"quoted\" \x01 é"
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		buf = AppendStringBounded(AppendString(buf[:0], s), s, 30, "…")
	}))
}
