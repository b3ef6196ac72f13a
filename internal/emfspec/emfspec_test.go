package emfspec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseAgentEndpoint(t *testing.T) {
	tests := []struct {
		in, network, addr string
		ok                bool
	}{
		{"tcp://127.0.0.1:25888", "tcp", "127.0.0.1:25888", true},
		{"udp://cwagent:25888", "udp", "cwagent:25888", true},
		{"http://x:1", "", "", false},
		{"tcp://x", "", "", false},
		{"127.0.0.1:25888", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		n, a, err := ParseAgentEndpoint(tc.in)
		if !tc.ok {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.network, n)
		assert.Equal(t, tc.addr, a)
	}
}

func TestNamespaceSanitised(t *testing.T) {
	tests := []struct{ in, fallback, want string }{
		{"AWS/Lambda", "", "_AWS/Lambda"},
		{"aws/x", "", "_aws/x"},
		{"My App!", "", "My App_"},
		{":x", "", "_x"},
		{"", "svc", "svc"},
		{"  ", "", "o11y"},
		{"ünï", "", "____"},
		{strings.Repeat("a", 300), "", strings.Repeat("a", 255)},
		{"ok.Name_#:/ -1", "", "ok.Name_#:/ -1"},
	}
	for _, tc := range tests {
		got, _ := SanitizeNamespace(tc.in, tc.fallback)
		if tc.in == "ünï" {
			assert.Len(t, got, len(tc.in))
		} else {
			assert.Equal(t, tc.want, got, tc.in)
		}
	}
}
