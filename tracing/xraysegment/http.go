package xraysegment

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"go.opentelemetry.io/otel/trace"
)

// URLs and SQL statements are kept far beyond X-Ray's 250-character default
// for strings: X-Ray stores them whole (the X-Ray SDKs and the collector
// send them uncut), and they are what a user searches a trace for. The
// bounds keep them from crowding out everything else; a document that still
// exceeds the datagram limit gets them cut back to 250 bytes (the last trim
// level) rather than being lost.
const (
	maxURLBytes   = 8 << 10
	maxQueryBytes = 16 << 10
)

func appendHTTP(dst []byte, v *view, kind trace.SpanKind, isSeg, awsAPI bool, urlMax int) []byte {
	start := len(dst)
	dst = append(dst, `,"http":{"request":{`...)
	comma := false // a request member has been written
	if m := v.str(sMethod); m != "" {
		dst = append(dst, `"method":`...)
		dst = appendStr(dst, m, maxStringBytes, "")
		comma = true
	}
	if u := v.str(sURLFull); u != "" {
		dst = appendKeyRaw(dst, `,"url":`, comma)
		dst = appendStr(dst, u, urlMax, "")
		comma = true
	} else if host := urlHost(v, kind, isSeg); host != "" {
		dst = appendKeyRaw(dst, `,"url":`, comma)
		dst = appendURL(dst, v, host, kind, isSeg, urlMax)
		comma = true
	}
	if ua := v.str(sUserAgent); ua != "" {
		dst = appendKeyRaw(dst, `,"user_agent":`, comma)
		dst = appendStr(dst, ua, maxStringBytes, "")
		comma = true
	}
	if isSeg {
		if client := v.str(sClientAddr); isIPAddr(client) {
			dst = appendKeyRaw(dst, `,"client_ip":`, comma)
			dst = appendStr(dst, client, 0, "")
			if peer := v.str(sPeerAddr); peer != client {
				dst = append(dst, `,"x_forwarded_for":true`...)
			}
			comma = true
		} else if peer := v.str(sPeerAddr); isIPAddr(peer) {
			dst = appendKeyRaw(dst, `,"client_ip":`, comma)
			dst = appendStr(dst, peer, 0, "")
			comma = true
		}
	} else if tracedCall(v, kind, awsAPI) {
		dst = appendKeyRaw(dst, `,"traced":`, comma)
		dst = append(dst, "true"...)
		comma = true
	}
	if comma {
		dst = append(dst, '}')
	} else {
		dst = append(dst[:start], `,"http":{`...)
	}
	status, hasStatus := v.num(sStatus)
	length, hasLength := v.num(sContentLen)
	if hasStatus || hasLength {
		if comma {
			dst = append(dst, ',')
		}
		dst = append(dst, `"response":{`...)
		if hasStatus {
			dst = append(dst, `"status":`...)
			dst = jsonenc.AppendSmallInt(dst, status)
		}
		if hasLength {
			if hasStatus {
				dst = append(dst, ',')
			}
			dst = append(dst, `"content_length":`...)
			dst = jsonenc.AppendSmallInt(dst, length)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// tracedCall reports whether a subsegment gets http.request.traced:true,
// which tells X-Ray that the callee sends its own segment with this
// subsegment as parent (and to treat the trace as incomplete until it
// arrives). That holds for CLIENT spans of HTTP and gRPC calls, where our
// middleware (or otelhttp/otelgrpc) injects the trace header and the callee
// is expected to be traced too. It does not hold for AWS SDK calls (AWS
// services never send a segment for them), database calls or messaging
// clients (the broker sends none; a consumer continues the trace through
// the message instead).
func tracedCall(v *view, kind trace.SpanKind, awsAPI bool) bool {
	return kind == trace.SpanKindClient && !awsAPI && !v.has(sAWSService) &&
		!v.has(sDBSystem) && !v.has(sMsgSystem)
}

// isIPAddr reports whether s parses as an IP address (netip.ParseAddr).
// Dotted-quad IPv4, the usual case, is checked without the parser.
func isIPAddr(s string) bool {
	if isDottedQuad(s) {
		return true
	}
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// isDottedQuad reports whether s is four decimal fields 0–255 separated by
// dots, without leading zeros: a subset of what netip.ParseAddr accepts.
func isDottedQuad(s string) bool {
	if len(s) < 7 || len(s) > 15 {
		return false
	}
	fields, val, digits := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			if digits == 0 || fields == 3 {
				return false
			}
			fields++
			val, digits = 0, 0
			continue
		}
		if c < '0' || c > '9' || (digits == 1 && val == 0) {
			return false // not a digit, or a leading zero
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return false
		}
	}
	return fields == 3 && digits > 0
}

// urlHost picks the host for URL assembly: the server's own name on
// segments, the peer's on client subsegments.
func urlHost(v *view, kind trace.SpanKind, isSeg bool) string {
	// A server.address (or net.peer.name) with a scheme is no host:
	// otelaws puts the SQS queue URL there.
	if h := v.str(sServerAddr); h != "" && !strings.Contains(h, "://") {
		return h
	}
	if isSeg || kind == trace.SpanKindServer {
		for _, s := range [...]slot{sHTTPHost, sServerName, sNetHostName, sHostName} {
			if h := v.str(s); h != "" {
				return h
			}
		}
		return ""
	}
	if h := v.str(sNetPeerName); h != "" && !strings.Contains(h, "://") {
		return h
	}
	if h := v.str(sHTTPHost); !strings.Contains(h, "://") {
		return h
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
	s = jsonenc.TruncateUTF8(s, p.left)
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

// appendURL assembles scheme://host[:port]path[?query] from URL pieces,
// cutting the input at urlMax bytes.
func appendURL(dst []byte, v *view, host string, kind trace.SpanKind, isSeg bool, urlMax int) []byte {
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
	// The part after the authority: sep+rest, then "?"+query if any.
	var sep, rest, query string
	if path := v.str(sURLPath); path != "" {
		if path[0] != '/' {
			sep = "/"
		}
		rest = path
		query = v.str(sURLQuery)
	} else if t := v.str(sTarget); t != "" {
		if t[0] != '/' {
			sep = "/"
		}
		rest = t
	} else {
		sep = "/"
	}
	if strings.IndexByte(host, ':') < 0 {
		// Common case: a plain host name. When the whole URL fits the
		// budget nothing is cut and the pieces are copied as they are.
		total := len(scheme) + len("://") + len(host) + len(sep) + len(rest)
		if hasPort {
			total += 1 + decimalLen(port)
		}
		if query != "" {
			total += 1 + len(query)
		}
		if total <= urlMax {
			switch scheme {
			case "https":
				dst = append(dst, `"https://`...)
			case "http":
				dst = append(dst, `"http://`...)
			default:
				dst = append(dst, '"')
				dst = appendContents(dst, scheme)
				dst = append(dst, "://"...)
			}
			dst = appendContents(dst, host)
			if hasPort {
				dst = append(dst, ':')
				dst = jsonenc.AppendSmallInt(dst, port)
			}
			dst = append(dst, sep...)
			dst = appendContents(dst, rest)
			if query != "" {
				dst = append(dst, '?')
				dst = appendContents(dst, query)
			}
			return append(dst, '"')
		}
	} else if !strings.HasPrefix(host, "[") && strings.Count(host, ":") == 1 {
		hasPort = false // http.host may already carry the port
	}
	p := pieces{dst: append(dst, '"'), left: urlMax}
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
	p.add(sep)
	p.add(rest)
	if query != "" {
		p.add("?")
		p.add(query)
	}
	return append(p.dst, '"')
}

// decimalLen returns the number of digits of n > 0.
func decimalLen(n int64) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// appendKeyRaw appends key, a constant of the form `,"name":`, without its
// leading comma unless comma is true.
func appendKeyRaw(dst []byte, key string, comma bool) []byte {
	if !comma {
		key = key[1:]
	}
	return append(dst, key...)
}
