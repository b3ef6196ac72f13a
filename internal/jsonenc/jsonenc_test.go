package jsonenc

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\r\tc", `"a\nb\r\tc"`},
		{"\x00\x1f\x7f", `"\u0000\u001f` + "\x7f" + `"`},
		{"héllo ✓", `"héllo ✓"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
		{"line\u2028sep\u2029", `"line\u2028sep\u2029"`},
		{"", `""`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got := string(AppendString(nil, tc.in))
			assert.Equal(t, tc.want, got)
			assert.True(t, json.Valid([]byte(got)))
		})
	}
}

func TestAppendStringTrunc(t *testing.T) {
	assert.Equal(t, `"short"`, string(AppendStringTrunc(nil, "short", 10, "…")))
	assert.Equal(t, `"abc…"`, string(AppendStringTrunc(nil, "abcdef", 3, "…")))
	// Never cuts inside a rune.
	got := AppendStringTrunc(nil, "ééé", 3, "|")
	assert.Equal(t, `"é|"`, string(got))
	assert.True(t, utf8.Valid(got))
}

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {1.5, "1.5"}, {-2, "-2"}, {1e21, "1e+21"}, {1e-7, "1e-7"},
		{123456789.125, "123456789.125"}, {math.NaN(), "null"}, {math.Inf(1), "null"},
	}
	for _, tc := range tests {
		got := string(AppendFloat(nil, tc.in))
		assert.Equal(t, tc.want, got, "%v", tc.in)
		assert.True(t, json.Valid([]byte(got)))
	}
}

func TestAppendEpochSeconds(t *testing.T) {
	assert.Equal(t, "1480615200.010000", string(AppendEpochSeconds(nil, 1480615200_010_000_000)))
	assert.Equal(t, "1764094880.123456", string(AppendEpochSeconds(nil, 1764094880_123_456_789)))
	assert.Equal(t, "0.000000", string(AppendEpochSeconds(nil, -5)))
}

// TestAppendEpochSecondsMatchesReference checks the fixed-width fast path
// against a plain strconv/fmt formulation, across the ten-digit boundaries.
func TestAppendEpochSecondsMatchesReference(t *testing.T) {
	ref := func(ns int64) string {
		if ns < 0 {
			ns = 0
		}
		return fmt.Sprintf("%d.%06d", ns/1e9, ns%1e9/1e3)
	}
	vals := []int64{0, 1, 999, 1000, 999_999_999, 1e9, 1e9 + 1e3,
		999_999_999_999_999_999, 1_000_000_000_000_000_000, 1_000_000_000_000_000_001,
		9_223_372_036_000_000_000, 9_223_372_035_999_999_999, 1795626000_123456_000,
		1795626000_187654_999, math.MaxInt64, -1, math.MinInt64}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		vals = append(vals, r.Int64N(math.MaxInt64), 1e18+r.Int64N(9e18), r.Int64N(2e18))
	}
	buf := []byte("x")
	for _, ns := range vals {
		want := ref(ns)
		if got := string(AppendEpochSeconds(nil, ns)); got != want {
			t.Fatalf("AppendEpochSeconds(%d) = %q, want %q", ns, got, want)
		}
		if got := string(AppendEpochSeconds(buf[:1], ns)); got != "x"+want {
			t.Fatalf("AppendEpochSeconds(x, %d) = %q, want %q", ns, got, "x"+want)
		}
	}
}

func TestAppendSmallIntMatchesStrconv(t *testing.T) {
	vals := []int64{math.MinInt64, -10000, -1, 10000, 99999, math.MaxInt64}
	for n := int64(0); n < 10000; n++ {
		vals = append(vals, n)
	}
	for _, n := range vals {
		if got, want := string(AppendSmallInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Fatalf("AppendSmallInt(x, %d) = %q, want %q", n, got, want)
		}
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 0, ""},
		{"abc", 0, ""},
		{"abc", 2, "ab"},
		{"abc", 3, "abc"},
		{"abc", 10, "abc"},
		{"aé", 2, "a"}, // é is two bytes: not split
		{"aé", 3, "aé"},
		{"日本", 5, "日"}, // three-byte runes
		{"日本", 2, ""},
		{"\xff\xfe", 1, "\xff"}, // invalid bytes are cut like any byte
	} {
		got := TruncateUTF8(tc.s, tc.n)
		assert.Equal(t, tc.want, got, "TruncateUTF8(%q, %d)", tc.s, tc.n)
		assert.LessOrEqual(t, len(got), tc.n)
	}
}

func TestAppendKeyAndScalars(t *testing.T) {
	b := []byte{'{'}
	b = AppendKey(b, "a", false)
	b = AppendInt(b, -3)
	b = AppendKey(b, "b", true)
	b = AppendBool(b, true)
	b = AppendKey(b, "c", true)
	b = AppendUint(b, 7)
	b = AppendKey(b, "d", true)
	b = append(AppendHex(append(b, '"'), []byte{0xab, 0x01}), '"', '}')
	assert.JSONEq(t, `{"a":-3,"b":true,"c":7,"d":"ab01"}`, string(b))
}

// FuzzAppendString: any input gives valid JSON that decodes to the input
// (with invalid UTF-8 replaced by U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\x00\xff\xfe", "\u2028", strings.Repeat("é", 10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		require.True(t, json.Valid(out), "%q", out)
		var back string
		require.NoError(t, json.Unmarshal(out, &back))
		assert.Equal(t, perByteValid(s), back)
		assert.NotContains(t, string(out), "\n")
	})
}

// perByteValid replaces every invalid byte with U+FFFD, as encoding/json does.
func perByteValid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func BenchmarkAppendString(b *testing.B) {
	s := "GET /orders/{id} from 203.0.113.7 \"quoted\""
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
