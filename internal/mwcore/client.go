package mwcore

import (
	"net/netip"
	"strings"
)

// maxForwardedLen bounds the first X-Forwarded-For entry looked at.
const maxForwardedLen = 64

// ClientAddress returns the client address of a server request: the first
// X-Forwarded-For entry (the original client as the first proxy saw it) when
// it is an IP address, optionally with a port, which is dropped
// ("203.0.113.7", "2001:db8::1", "[2001:db8::1]:443", "203.0.113.7:5678"),
// else peer. Anything else in the header (names, "unknown", obfuscated
// identifiers, injected text) is ignored: it is client-controlled and would
// otherwise reach spans and access lines. The header is forgeable, which is
// why the value is client.address, never network.peer.address. It does not
// allocate.
func ClientAddress(xff, peer string) (addr string, forwarded bool) {
	if ip := forwardedIP(xff); ip != "" {
		return ip, true
	}
	return peer, false
}

func forwardedIP(v string) string {
	if v == "" {
		return ""
	}
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	if len(v) == 0 || len(v) > maxForwardedLen {
		return ""
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '[' || c == ']') {
			return "" // not an IP literal: skip the parser (its errors allocate)
		}
	}
	// "[v6]:port" and "v4:port" carry a port; otherwise it is a bare address.
	// (Picking the parser first keeps the failing one, whose error
	// allocates, off the common path.)
	if v[0] == '[' || strings.Count(v, ":") == 1 {
		if _, err := netip.ParseAddrPort(v); err != nil {
			return ""
		}
		host := v[:strings.LastIndexByte(v, ':')]
		return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	if _, err := netip.ParseAddr(v); err != nil {
		return ""
	}
	return v
}
