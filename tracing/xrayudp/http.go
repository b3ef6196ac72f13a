package xrayudp

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"go.opentelemetry.io/otel/trace"
)

func appendHTTP(dst []byte, v *view, kind trace.SpanKind, isSeg bool) []byte {
	dst = append(dst, `,"http":{"request":{`...)
	n := 0
	field := func(key string) {
		dst = appendConstKey(dst, key, n > 0)
		n++
	}
	if m := v.str(sMethod); m != "" {
		field("method")
		dst = appendStr(dst, m, maxStringBytes, "")
	}
	if u := v.str(sURLFull); u != "" {
		field("url")
		dst = appendStr(dst, u, maxStringBytes, "")
	} else if host := urlHost(v, kind, isSeg); host != "" {
		field("url")
		dst = appendURL(dst, v, host, kind, isSeg)
	}
	if ua := v.str(sUserAgent); ua != "" {
		field("user_agent")
		dst = appendStr(dst, ua, maxStringBytes, "")
	}
	if isSeg {
		client := v.str(sClientAddr)
		if _, err := netip.ParseAddr(client); client != "" && err == nil {
			field("client_ip")
			dst = appendStr(dst, client, 0, "")
			if peer := v.str(sPeerAddr); peer == "" || peer != client {
				field("x_forwarded_for")
				dst = append(dst, "true"...)
			}
		} else if peer := v.str(sPeerAddr); peer != "" {
			if _, err := netip.ParseAddr(peer); err == nil {
				field("client_ip")
				dst = appendStr(dst, peer, 0, "")
			}
		}
	} else if kind == trace.SpanKindClient {
		// Our client spans always carry the injected trace header; the
		// callee's segment will name this subsegment as its parent.
		field("traced")
		dst = append(dst, "true"...)
	}
	dst = append(dst, '}')
	status, hasStatus := v.num(sStatus)
	length, hasLength := v.num(sContentLen)
	if hasStatus || hasLength {
		dst = append(dst, `,"response":{`...)
		if hasStatus {
			dst = append(dst, `"status":`...)
			dst = jsonenc.AppendInt(dst, status)
		}
		if hasLength {
			if hasStatus {
				dst = append(dst, ',')
			}
			dst = append(dst, `"content_length":`...)
			dst = jsonenc.AppendInt(dst, length)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// urlHost picks the host for URL assembly: the server's own name on
// segments, the peer's on client subsegments.
func urlHost(v *view, kind trace.SpanKind, isSeg bool) string {
	var order []slot
	if isSeg || kind == trace.SpanKindServer {
		order = []slot{sServerAddr, sHTTPHost, sServerName, sNetHostName, sHostName}
	} else {
		order = []slot{sServerAddr, sNetPeerName, sHTTPHost}
	}
	for _, s := range order {
		if h := v.str(s); h != "" {
			return h
		}
	}
	return ""
}

// pieces appends string pieces into a JSON string under a byte budget.
type pieces struct {
	dst  []byte
	left int
}

func (p *pieces) add(s string) {
	if p.left <= 0 || s == "" {
		return
	}
	s = truncBytes(s, p.left)
	p.left -= len(s)
	p.dst = appendContents(p.dst, s)
}

func (p *pieces) addInt(n int64) {
	var b [20]byte
	d := strconv.AppendInt(b[:0], n, 10)
	if len(d) > p.left {
		p.left = 0
		return
	}
	p.left -= len(d)
	p.dst = append(p.dst, d...)
}

// appendURL assembles scheme://host[:port]path[?query] from URL pieces.
func appendURL(dst []byte, v *view, host string, kind trace.SpanKind, isSeg bool) []byte {
	scheme := v.str(sScheme)
	if scheme == "" {
		scheme = "http"
	}
	port, hasPort := v.num(sServerPort)
	if !hasPort {
		if isSeg || kind == trace.SpanKindServer {
			port, hasPort = v.num(sNetHostPort)
		} else {
			port, hasPort = v.num(sNetPeerPort)
		}
	}
	if hasPort && ((scheme == "http" && port == 80) || (scheme == "https" && port == 443) || port <= 0) {
		hasPort = false
	}
	if strings.IndexByte(host, ':') >= 0 && !strings.HasPrefix(host, "[") && strings.Count(host, ":") == 1 {
		hasPort = false // http.host may already carry the port
	}
	p := pieces{dst: append(dst, '"'), left: maxStringBytes}
	p.add(scheme)
	p.add("://")
	if strings.Count(host, ":") > 1 && !strings.HasPrefix(host, "[") {
		p.add("[")
		p.add(host)
		p.add("]")
	} else {
		p.add(host)
	}
	if hasPort {
		p.add(":")
		p.addInt(port)
	}
	if path := v.str(sURLPath); path != "" {
		if path[0] != '/' {
			p.add("/")
		}
		p.add(path)
		if q := v.str(sURLQuery); q != "" {
			p.add("?")
			p.add(q)
		}
	} else if t := v.str(sTarget); t != "" {
		if t[0] != '/' {
			p.add("/")
		}
		p.add(t)
	} else {
		p.add("/")
	}
	return append(p.dst, '"')
}
