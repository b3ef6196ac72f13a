package xrayudp

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDaemonAddress(t *testing.T) {
	tests := []struct {
		in, udp, tcp string
		wantErr      bool
	}{
		{in: "", udp: "127.0.0.1:2000", tcp: "127.0.0.1:2000"},
		{in: "127.0.0.1:3000", udp: "127.0.0.1:3000", tcp: "127.0.0.1:3000"},                        // T14
		{in: "tcp:127.0.0.1:2000 udp:127.0.0.2:2001", udp: "127.0.0.2:2001", tcp: "127.0.0.1:2000"}, // T14
		{in: "udp:127.0.0.2:2001 tcp:127.0.0.1:2000", udp: "127.0.0.2:2001", tcp: "127.0.0.1:2000"},
		{in: "  UDP:127.0.0.2:2001   TCP:127.0.0.1:2000 ", udp: "127.0.0.2:2001", tcp: "127.0.0.1:2000"},
		{in: "[::1]:2000", udp: "[::1]:2000", tcp: "[::1]:2000"}, // T14: the Go X-Ray SDK rejects this
		{in: "tcp:[::1]:2000 udp:[fe80::1%eth0]:2001", udp: "[fe80::1%eth0]:2001", tcp: "[::1]:2000"},
		{in: "xray-daemon:2000", udp: "xray-daemon:2000", tcp: "xray-daemon:2000"},
		{in: "udp:127.0.0.1:2000", wantErr: true}, // T14: prefixed form needs both
		{in: "tcp:127.0.0.1:2000", wantErr: true},
		{in: "udp:127.0.0.1:2000 udp:127.0.0.1:2001", wantErr: true},
		{in: "tcp:127.0.0.1:2000 127.0.0.1:2001", wantErr: true},
		{in: "a:1 b:2 c:3", wantErr: true},
		{in: "localhost", wantErr: true},
		{in: "localhost:", wantErr: true},
		{in: ":2000", wantErr: true},
		{in: "host:99999", wantErr: true},
		{in: "host:http", wantErr: true},
		{in: "::1:2000", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			udp, tcp, err := ParseDaemonAddress(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				assert.Empty(t, udp)
				assert.Empty(t, tcp)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.udp, udp)
			assert.Equal(t, tc.tcp, tcp)
		})
	}
}

func FuzzParseDaemonAddress(f *testing.F) {
	for _, s := range []string{"127.0.0.1:2000", "tcp:a:1 udp:b:2", "[::1]:2000", "udp:x:1", "", " : "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		udp, tcp, err := ParseDaemonAddress(s)
		if err != nil {
			return
		}
		// Whatever parses must round-trip through the single form.
		for _, a := range []string{udp, tcp} {
			u2, t2, err := ParseDaemonAddress(a)
			if err != nil || u2 != a || t2 != a {
				t.Fatalf("%q -> %q does not re-parse: %v", s, a, err)
			}
		}
	})
}
