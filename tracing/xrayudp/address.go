package xrayudp

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// DefaultDaemonAddress is where the X-Ray daemon (and the CloudWatch agent's
// X-Ray listener) receives segments and serves the sampling proxy.
const DefaultDaemonAddress = "127.0.0.1:2000"

// ParseDaemonAddress parses an AWS_XRAY_DAEMON_ADDRESS value and returns the
// UDP address segments go to and the TCP address of the daemon's sampling
// proxy.
//
// Two forms are accepted:
//
//   - "host:port": the same address for UDP and TCP ("xray-daemon:2000",
//     "[::1]:2000");
//   - "tcp:host:port udp:host:port": exactly two space-separated items with
//     both prefixes, in either order.
//
// An empty value yields [DefaultDaemonAddress] for both. Unlike the X-Ray Go
// SDK (which panics at init and cannot parse IPv6 literals), bad input is
// returned as an error and bracketed IPv6 literals are accepted.
func ParseDaemonAddress(s string) (udp, tcp string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultDaemonAddress, DefaultDaemonAddress, nil
	}
	fields := strings.Fields(s)
	switch len(fields) {
	case 1:
		if hasPrefixFold(s, "tcp:") || hasPrefixFold(s, "udp:") {
			// "udp:h:p" alone could also be read as host "udp"; the AWS SDKs
			// reject it, and so do we: both prefixed items are required.
			if _, _, e := splitAddr(s); e != nil || strings.Count(s, ":") > 1 {
				return "", "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": the prefixed form needs both tcp: and udp: items")
			}
		}
		addr, e := checkAddr(s)
		if e != nil {
			return "", "", e
		}
		return addr, addr, nil
	case 2:
		for _, f := range fields {
			var dst *string
			var rest string
			switch {
			case hasPrefixFold(f, "udp:"):
				dst, rest = &udp, f[4:]
			case hasPrefixFold(f, "tcp:"):
				dst, rest = &tcp, f[4:]
			default:
				return "", "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": item " + strconv.Quote(f) + " lacks a tcp: or udp: prefix")
			}
			if *dst != "" {
				return "", "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": duplicate " + f[:3] + " item")
			}
			addr, e := checkAddr(rest)
			if e != nil {
				return "", "", e
			}
			*dst = addr
		}
		return udp, tcp, nil
	default:
		return "", "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": want \"host:port\" or \"tcp:host:port udp:host:port\"")
	}
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func splitAddr(s string) (host, port string, err error) { return net.SplitHostPort(s) }

// checkAddr validates host:port and returns it normalised (IPv6 hosts
// bracketed, as net.Dial wants them).
func checkAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": " + err.Error())
	}
	if host == "" {
		return "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": missing host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return "", errors.New("xrayudp: daemon address " + strconv.Quote(s) + ": bad port " + strconv.Quote(port))
	}
	return net.JoinHostPort(host, port), nil
}
