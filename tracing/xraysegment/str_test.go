package xraysegment

import (
	"strings"
	"testing"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/stretchr/testify/assert"
)

func TestAppendStrMatchesJSONEnc(t *testing.T) {
	inputs := []string{"", "a", "GET", "https://api.example.com/orders/42", "12345678", "1234567\"", "\"1234567",
		"abcdefgh\\ijk", "abcdefghij\x01", "abcdefgh\x7f", "héllo wörld", "abcdefgh\xff", "\u2028abcdefgh", strings.Repeat("x", 300),
		"abcdefg!#$%&'()*+,-./0123456789:;<=>?@[]^_`{|}~", " \x1f\x20\x21"}
	for _, s := range inputs {
		assert.Equal(t, string(jsonenc.AppendStringTrunc(nil, s, 250, "…")), string(appendStr(nil, s, 250, "…")), "%q", s)
	}
	// Every single byte value in every position of a word.
	for b := 0; b < 256; b++ {
		for pos := 0; pos < 9; pos++ {
			s := strings.Repeat("a", pos) + string([]byte{byte(b)}) + "bcdefghij"
			assert.Equal(t, string(jsonenc.AppendString(nil, s)), string(appendStr(nil, s, 0, "")), "%q", s)
		}
	}
}
