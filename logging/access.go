package logging

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// AccessMessage is the "msg" of access lines.
const AccessMessage = "access"

// Access-line field names (see the table in doc.go).
const (
	KeyProtocol   = "protocol"
	KeyMethod     = "method"
	KeyRoute      = "route"
	KeyPath       = "path"
	KeyStatus     = "status"
	KeyGRPCCode   = "grpc_code"
	KeyDurationMS = "duration_ms"
	KeyBytesIn    = "bytes_in"
	KeyBytesOut   = "bytes_out"
	KeyUserAgent  = "user_agent"
	KeyClientIP   = "client_ip"
	KeyPeer       = "peer"
)

// AccessEntry is one access-log line (HTTP request or gRPC call). Empty
// strings and zero byte counts are omitted; Status is always written.
type AccessEntry struct {
	Level     slog.Level
	Protocol  string // "http" or "grpc"
	Method    string // HTTP method, or the gRPC full method
	Route     string // route template / operation
	Path      string // raw path (HTTP only, query removed)
	Status    int    // HTTP status or gRPC code
	Duration  time.Duration
	BytesIn   int64
	BytesOut  int64
	RequestID string // overrides the request state's id when set
	GRPCCode  string // gRPC status code name, e.g. "NotFound"
	UserAgent string
	ClientIP  string
	Peer      string // remote service or address for client calls
}

// Access writes one access-log line for ctx's request: the usual header and
// correlation fields, the context attrs, then the entry's fields. It encodes
// straight into a pooled buffer, without allocating. Lines below the handler's
// level are skipped (unless the request is debug-sampled). Safe on a nil
// Handler and a nil entry.
func (h *Handler) Access(ctx context.Context, e *AccessEntry) {
	if h == nil || h.c == nil || e == nil || !h.Enabled(ctx, e.Level) {
		return
	}
	c := h.c
	t := time.Time{}
	if c.clock != nil {
		t = c.clock()
	} else {
		t = time.Now()
	}
	bp := getBuf()
	buf := c.appendHeader((*bp)[:0], ctx, t, e.Level, AccessMessage, nil, e.RequestID)
	const limit = MaxLineBytes - 1 - len(`,"truncated":true}`) - 1
	buf, truncated := c.appendCtxAttrs(buf, ctx, limit-accessFieldsMax, false)
	buf = appendOpt(buf, KeyProtocol, e.Protocol)
	buf = appendOpt(buf, KeyMethod, e.Method)
	buf = appendOpt(buf, KeyRoute, e.Route)
	buf = appendOpt(buf, KeyPath, e.Path)
	buf = append(buf, `,"`+KeyStatus+`":`...)
	buf = strconv.AppendInt(buf, int64(e.Status), 10)
	buf = appendOpt(buf, KeyGRPCCode, e.GRPCCode)
	buf = append(buf, `,"`+KeyDurationMS+`":`...)
	buf = appendMillis(buf, e.Duration.Microseconds())
	if e.BytesIn > 0 {
		buf = append(buf, `,"`+KeyBytesIn+`":`...)
		buf = strconv.AppendInt(buf, e.BytesIn, 10)
	}
	if e.BytesOut > 0 {
		buf = append(buf, `,"`+KeyBytesOut+`":`...)
		buf = strconv.AppendInt(buf, e.BytesOut, 10)
	}
	buf = appendOpt(buf, KeyUserAgent, e.UserAgent)
	buf = appendOpt(buf, KeyClientIP, e.ClientIP)
	buf = appendOpt(buf, KeyPeer, e.Peer)
	if truncated {
		buf = append(buf, `,"`+KeyTruncated+`":true`...)
	}
	buf = append(buf, '}', '\n')
	_ = c.write(buf, truncated)
	*bp = buf
	putBuf(bp)
}

// accessFieldsMax bounds the entry's fields: 8 strings of at most
// 4*maxStaticBytes plus numbers; context attrs get what is left.
const accessFieldsMax = 8*(4*maxStaticBytes+16) + 160

// appendOpt appends ,"key":"v" (bounded) when v is not empty.
func appendOpt(buf []byte, key, v string) []byte {
	if v == "" {
		return buf
	}
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, '"', ':')
	return appendStr(buf, v, maxStaticBytes*4)
}

// appendMillis appends us microseconds as milliseconds, exactly as
// jsonenc.AppendFloat(buf, float64(us)/1e3) would (the shortest decimal
// that round-trips, which for a whole number of microseconds below 10^12
// is the number itself with trailing zeros dropped), without the float
// formatting: it runs for every access line.
func appendMillis(buf []byte, us int64) []byte {
	if us < 0 || us >= 1e12 {
		return jsonenc.AppendFloat(buf, float64(us)/1e3)
	}
	buf = strconv.AppendInt(buf, us/1000, 10)
	frac := us % 1000
	if frac == 0 {
		return buf
	}
	buf = append(buf, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	for buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
	}
	return buf
}
