package tracing

import (
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/xrayid"
)

// HeaderName is the HTTP name of the X-Ray trace header. gRPC metadata uses
// the lowercase form, which [XRayPropagator.Extract] also tries.
const HeaderName = "X-Amzn-Trace-Id"

// headerNameLower is the gRPC metadata spelling; carriers that do not
// canonicalise keys (metadata.MD, plain maps) only answer to it.
const headerNameLower = "x-amzn-trace-id"

const (
	// MaxInboundHeaderLen is the longest inbound X-Amzn-Trace-Id value
	// accepted; longer values are ignored as hostile (ALB rewrites headers
	// beyond 7 KB to Root only, so real ones stay far below this).
	MaxInboundHeaderLen = 1024
	// MaxHeaderLen is the longest header this package emits (the limit the
	// OTel Java propagator enforces); extra fields are dropped to fit,
	// never Root, Parent or Sampled.
	MaxHeaderLen = 256
	// maxExtras bounds how many unknown fields one header keeps.
	maxExtras = 8
	// maxKeyLen bounds an extra field's key.
	maxKeyLen = 64
)

// Decision is the sampling state carried by the Sampled field.
type Decision uint8

const (
	// DecisionNone means no Sampled field (or an unrecognised value): no
	// upstream decision, the local sampler decides.
	DecisionNone Decision = iota
	// DecisionRequested is Sampled=?: the local sampler decides and the
	// decision is returned to the caller in the response header.
	DecisionRequested
	// DecisionNotSampled is Sampled=0.
	DecisionNotSampled
	// DecisionSampled is Sampled=1.
	DecisionSampled
)

// String returns the Sampled field value ("1", "0", "?") or "" for DecisionNone.
func (d Decision) String() string {
	switch d {
	case DecisionSampled:
		return "1"
	case DecisionNotSampled:
		return "0"
	case DecisionRequested:
		return "?"
	}
	return ""
}

// field locates one preserved extra field inside Header.raw, so keeping it
// costs no allocation (offsets fit in uint16: inbound headers are ≤ 1 KiB).
type field struct{ k0, k1, v0, v1 uint16 }

// Header is a parsed X-Amzn-Trace-Id value.
//
// The zero value is "no header". A Header is a small value: copy it freely.
// Extra fields (Lineage, ALB's CalledFrom, …) refer to the original string
// and are forwarded by [XRayPropagator.Inject]; Self is always dropped.
type Header struct {
	// TraceID is the Root field (always valid in a parsed Header).
	TraceID trace.TraceID
	// ParentID is the Parent field; the zero id when the header had none
	// (an ALB-style Root-only header).
	ParentID trace.SpanID
	// Sampled is the upstream sampling decision.
	Sampled Decision

	raw     string
	nExtras uint8
	extras  [maxExtras]field
}

// ParseHeader parses an X-Amzn-Trace-Id value tolerantly: fields in any
// order, spaces around ";" and "=" trimmed, empty fields and fields without
// "=" skipped, keys case-sensitive, hex digits of either case. Root is
// required; Parent and Sampled are optional. It reports false (ignore the
// header, start a new trace) when Root is missing, Root or Parent is
// malformed or all-zero, or s is longer than [MaxInboundHeaderLen]. It never
// panics and does not allocate.
func ParseHeader(s string) (Header, bool) {
	var h Header
	if !parseHeader(s, &h) {
		return Header{}, false
	}
	return h, true
}

func parseHeader(s string, h *Header) bool {
	if len(s) == 0 || len(s) > MaxInboundHeaderLen {
		return false
	}
	h.raw = s
	var haveRoot, haveParent, haveSampled bool
	for start := 0; start < len(s); {
		end := strings.IndexByte(s[start:], ';')
		if end < 0 {
			end = len(s)
		} else {
			end += start
		}
		fs, fe := start, end
		start = end + 1

		eq := strings.IndexByte(s[fs:fe], '=')
		if eq < 0 {
			continue // "Foo" or "" (H12, trailing ";"): skip the field, keep the rest
		}
		eq += fs
		k0, k1 := trimOWS(s, fs, eq)
		v0, v1 := trimOWS(s, eq+1, fe)
		key, val := s[k0:k1], s[v0:v1]
		switch key {
		case "Root":
			if haveRoot {
				continue // first Root wins
			}
			id, ok := xrayid.ParseTraceID(val)
			if !ok {
				return false
			}
			h.TraceID, haveRoot = id, true
		case "Parent":
			if haveParent {
				continue
			}
			id, ok := xrayid.ParseSpanID(val)
			if !ok {
				return false
			}
			h.ParentID, haveParent = id, true
		case "Sampled":
			if haveSampled {
				continue
			}
			haveSampled = true
			switch val {
			case "1":
				h.Sampled = DecisionSampled
			case "0":
				h.Sampled = DecisionNotSampled
			case "?":
				h.Sampled = DecisionRequested
			}
		case "Self":
			// Inserted by ALB; opaque (its own docs show a malformed one) and
			// never forwarded.
		default:
			if int(h.nExtras) < maxExtras && validExtraKey(key) && validExtraValue(val) && !h.hasExtra(key) {
				h.extras[h.nExtras] = field{uint16(k0), uint16(k1), uint16(v0), uint16(v1)}
				h.nExtras++
			}
		}
	}
	return haveRoot
}

func trimOWS(s string, i, j int) (int, int) {
	for i < j && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	for j > i && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return i, j
}

// validExtraKey accepts 1..64 characters of [A-Za-z0-9_.-].
func validExtraKey(k string) bool {
	if len(k) == 0 || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// validExtraValue accepts a non-empty run of visible ASCII without ';', so
// a forwarded field can never break the outbound header (net/http rejects
// requests whose header values hold control characters).
func validExtraValue(v string) bool {
	if len(v) == 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

func (h *Header) hasExtra(key string) bool {
	for i := 0; i < int(h.nExtras); i++ {
		f := h.extras[i]
		if h.raw[f.k0:f.k1] == key {
			return true
		}
	}
	return false
}

// Lookup returns the value of a preserved extra field such as "Lineage".
// Root, Parent, Sampled and Self are not extra fields.
func (h Header) Lookup(key string) (string, bool) {
	for i := 0; i < int(h.nExtras); i++ {
		f := h.extras[i]
		if h.raw[f.k0:f.k1] == key {
			return h.raw[f.v0:f.v1], true
		}
	}
	return "", false
}

// Append appends h in the form this package forwards it: Root, Parent (if
// any), Sampled (if any), then the preserved extra fields that fit in
// [MaxHeaderLen] characters, Lineage first.
func (h Header) Append(dst []byte) []byte {
	return appendHeader(dst, h.TraceID, h.ParentID, h.Sampled, &h)
}

// String returns h as [Header.Append] writes it.
func (h Header) String() string {
	var buf [MaxHeaderLen]byte
	return string(h.Append(buf[:0]))
}

// AppendResponse appends the X-Amzn-Trace-Id a server returns to the caller
// that sent h, once the server span sc exists, following the X-Ray SDK:
// Root=<trace id of sc>, ;Parent=<the incoming Parent> when one came in, and
// ;Sampled=<decision of sc> when the caller sent a Sampled field (this is how
// a Sampled=? request learns the decision). With an invalid sc the incoming
// trace id is used.
func (h Header) AppendResponse(dst []byte, sc trace.SpanContext) []byte {
	tid := h.TraceID
	if sc.TraceID().IsValid() {
		tid = sc.TraceID()
	}
	if !tid.IsValid() {
		return dst
	}
	d := DecisionNone
	if h.Sampled != DecisionNone {
		d = DecisionNotSampled
		if sc.IsSampled() {
			d = DecisionSampled
		}
	}
	return appendHeader(dst, tid, h.ParentID, d, nil)
}

// appendHeader writes Root, Parent (when valid), Sampled (when not None)
// and the extras of x (may be nil) that keep the whole value within
// MaxHeaderLen. The mandatory part is at most 74 characters.
func appendHeader(dst []byte, tid trace.TraceID, sid trace.SpanID, d Decision, x *Header) []byte {
	start := len(dst)
	dst = append(dst, "Root="...)
	dst = xrayid.AppendTraceID(dst, tid)
	if sid.IsValid() {
		dst = append(dst, ";Parent="...)
		dst = xrayid.AppendSpanID(dst, sid)
	}
	if d != DecisionNone {
		dst = append(dst, ";Sampled="...)
		dst = append(dst, d.String()...)
	}
	if x == nil || x.nExtras == 0 {
		return dst
	}
	// Lineage first: AWS uses it to stop recursive invocation loops, so it
	// is the extra field most worth its bytes.
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < int(x.nExtras); i++ {
			f := x.extras[i]
			key := x.raw[f.k0:f.k1]
			if (key == "Lineage") != (pass == 0) {
				continue
			}
			val := x.raw[f.v0:f.v1]
			if len(dst)-start+2+len(key)+len(val) > MaxHeaderLen {
				continue // drop what does not fit; a later, shorter field may
			}
			dst = append(dst, ';')
			dst = append(dst, key...)
			dst = append(dst, '=')
			dst = append(dst, val...)
		}
	}
	return dst
}
