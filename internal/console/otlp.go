package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// maxOTLPBody bounds one OTLP/HTTP request body (compressed and not).
const maxOTLPBody = 16 << 20

// ingestOTLP converts every span of req into X-Ray segment documents with
// the SDK's own translator (tracing/xraysegment), so the console shows what the
// X-Ray daemon would forward to AWS, and stores them. It returns how many
// spans were rejected.
func (c *Console) ingestOTLP(req *collectortrace.ExportTraceServiceRequest) (rejected int64) {
	var buf []byte
	for _, rs := range req.GetResourceSpans() {
		res := resource.NewWithAttributes("", attrs(rs.GetResource().GetAttributes())...)
		for _, ss := range rs.GetScopeSpans() {
			scope := instrumentation.Scope{Name: ss.GetScope().GetName(), Version: ss.GetScope().GetVersion(), SchemaURL: ss.GetSchemaUrl()}
			for _, sp := range ss.GetSpans() {
				ro, err := spanFromOTLP(sp, res, scope)
				if err != nil {
					rejected++
					c.stats.BadOTLP.Add(1)
					continue
				}
				c.stats.OTLPSpans.Add(1)
				if xraysegment.Omitted(ro) {
					continue // an AWS SDK phase span: its call's subsegment stands for it
				}
				buf = c.enc.AppendSegment(buf[:0], ro)
				if err := c.IngestSegment(buf); err != nil {
					rejected++
					continue
				}
				if b, ok := c.enc.AppendLocalRootSegment(buf[:0], ro); ok {
					_ = c.IngestSegment(b)
				}
			}
		}
	}
	return rejected
}

var errBadSpanID = errors.New("OTLP span: invalid trace or span id")

func spanFromOTLP(sp *tracepb.Span, res *resource.Resource, scope instrumentation.Scope) (sdktrace.ReadOnlySpan, error) {
	var tid oteltrace.TraceID
	var sid, pid oteltrace.SpanID
	if len(sp.GetTraceId()) != 16 || len(sp.GetSpanId()) != 8 {
		return nil, errBadSpanID
	}
	copy(tid[:], sp.GetTraceId())
	copy(sid[:], sp.GetSpanId())
	sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: oteltrace.FlagsSampled})
	if !sc.IsValid() {
		return nil, errBadSpanID
	}
	var parent oteltrace.SpanContext
	if p := sp.GetParentSpanId(); len(p) == 8 {
		copy(pid[:], p)
		parent = oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: pid, TraceFlags: oteltrace.FlagsSampled})
	} else if len(p) != 0 {
		return nil, errBadSpanID
	}
	stub := tracetest.SpanStub{
		Name:                 sp.GetName(),
		SpanContext:          sc,
		Parent:               parent,
		SpanKind:             spanKind(sp.GetKind()),
		StartTime:            time.Unix(0, int64(sp.GetStartTimeUnixNano())),
		EndTime:              time.Unix(0, int64(sp.GetEndTimeUnixNano())),
		Attributes:           attrs(sp.GetAttributes()),
		DroppedAttributes:    int(sp.GetDroppedAttributesCount()),
		DroppedEvents:        int(sp.GetDroppedEventsCount()),
		DroppedLinks:         int(sp.GetDroppedLinksCount()),
		Resource:             res,
		InstrumentationScope: scope,
	}
	for _, e := range sp.GetEvents() {
		stub.Events = append(stub.Events, sdktrace.Event{Name: e.GetName(), Time: time.Unix(0, int64(e.GetTimeUnixNano())), Attributes: attrs(e.GetAttributes())})
	}
	for _, l := range sp.GetLinks() {
		if len(l.GetTraceId()) != 16 || len(l.GetSpanId()) != 8 {
			continue
		}
		var lt oteltrace.TraceID
		var ls oteltrace.SpanID
		copy(lt[:], l.GetTraceId())
		copy(ls[:], l.GetSpanId())
		stub.Links = append(stub.Links, sdktrace.Link{
			SpanContext: oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: lt, SpanID: ls}),
			Attributes:  attrs(l.GetAttributes()),
		})
	}
	switch sp.GetStatus().GetCode() {
	case tracepb.Status_STATUS_CODE_ERROR:
		stub.Status = sdktrace.Status{Code: codes.Error, Description: sp.GetStatus().GetMessage()}
	case tracepb.Status_STATUS_CODE_OK:
		stub.Status = sdktrace.Status{Code: codes.Ok}
	}
	return stub.Snapshot(), nil
}

func spanKind(k tracepb.Span_SpanKind) oteltrace.SpanKind {
	switch k {
	case tracepb.Span_SPAN_KIND_INTERNAL:
		return oteltrace.SpanKindInternal
	case tracepb.Span_SPAN_KIND_SERVER:
		return oteltrace.SpanKindServer
	case tracepb.Span_SPAN_KIND_CLIENT:
		return oteltrace.SpanKindClient
	case tracepb.Span_SPAN_KIND_PRODUCER:
		return oteltrace.SpanKindProducer
	case tracepb.Span_SPAN_KIND_CONSUMER:
		return oteltrace.SpanKindConsumer
	}
	return oteltrace.SpanKindInternal
}

// maxOTLPAttrs bounds the attributes converted per span, event or resource.
const maxOTLPAttrs = 256

func attrs(kvs []*commonpb.KeyValue) []attribute.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	if len(kvs) > maxOTLPAttrs {
		kvs = kvs[:maxOTLPAttrs]
	}
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		if kv.GetKey() == "" {
			continue
		}
		out = append(out, attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: attrValue(kv.GetValue())})
	}
	return out
}

func attrValue(v *commonpb.AnyValue) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_BytesValue:
		return attribute.StringValue(hex.EncodeToString(x.BytesValue))
	case *commonpb.AnyValue_ArrayValue:
		vals := x.ArrayValue.GetValues()
		if len(vals) == 0 {
			return attribute.StringSliceValue(nil)
		}
		// Homogeneous scalar arrays keep their type; anything else is text.
		switch vals[0].GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			if s, ok := sameType(vals, func(a *commonpb.AnyValue) (string, bool) {
				y, ok := a.GetValue().(*commonpb.AnyValue_StringValue)
				if !ok {
					return "", false
				}
				return y.StringValue, true
			}); ok {
				return attribute.StringSliceValue(s)
			}
		case *commonpb.AnyValue_BoolValue:
			if s, ok := sameType(vals, func(a *commonpb.AnyValue) (bool, bool) {
				y, ok := a.GetValue().(*commonpb.AnyValue_BoolValue)
				if !ok {
					return false, false
				}
				return y.BoolValue, true
			}); ok {
				return attribute.BoolSliceValue(s)
			}
		case *commonpb.AnyValue_IntValue:
			if s, ok := sameType(vals, func(a *commonpb.AnyValue) (int64, bool) {
				y, ok := a.GetValue().(*commonpb.AnyValue_IntValue)
				if !ok {
					return 0, false
				}
				return y.IntValue, true
			}); ok {
				return attribute.Int64SliceValue(s)
			}
		case *commonpb.AnyValue_DoubleValue:
			if s, ok := sameType(vals, func(a *commonpb.AnyValue) (float64, bool) {
				y, ok := a.GetValue().(*commonpb.AnyValue_DoubleValue)
				if !ok {
					return 0, false
				}
				return y.DoubleValue, true
			}); ok {
				return attribute.Float64SliceValue(s)
			}
		}
		return attribute.StringValue(anyText(v))
	case *commonpb.AnyValue_KvlistValue:
		return attribute.StringValue(anyText(v))
	}
	return attribute.StringValue("")
}

func sameType[T any](vals []*commonpb.AnyValue, get func(*commonpb.AnyValue) (T, bool)) ([]T, bool) {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		x, ok := get(v)
		if !ok {
			return nil, false
		}
		out = append(out, x)
	}
	return out, true
}

// anyText renders a structured value as compact JSON text (bounded).
func anyText(v *commonpb.AnyValue) string {
	b, err := protojson.Marshal(v)
	if err != nil {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, b) == nil {
		b = buf.Bytes()
	}
	if len(b) > 4096 {
		b = b[:4096]
	}
	return string(b)
}

// ---- receivers

type otlpGRPC struct {
	collectortrace.UnimplementedTraceServiceServer
	c *Console
}

func (s otlpGRPC) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	resp := &collectortrace.ExportTraceServiceResponse{}
	if n := s.c.ingestOTLP(req); n > 0 {
		resp.PartialSuccess = &collectortrace.ExportTracePartialSuccess{
			RejectedSpans: n, ErrorMessage: fmt.Sprintf("%d spans rejected (invalid ids or segment documents)", n),
		}
	}
	return resp, nil
}

// decodeOTLPHTTP decodes an OTLP/HTTP trace request body (protobuf or JSON,
// optionally gzip-compressed).
func decodeOTLPHTTP(contentType, encoding string, body []byte) (*collectortrace.ExportTraceServiceRequest, bool, error) {
	if strings.EqualFold(encoding, "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, false, err
		}
		body, err = io.ReadAll(io.LimitReader(zr, maxOTLPBody+1))
		if err != nil {
			return nil, false, err
		}
		if len(body) > maxOTLPBody {
			return nil, false, errors.New("decompressed body too large")
		}
	} else if encoding != "" && !strings.EqualFold(encoding, "identity") {
		return nil, false, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	req := &collectortrace.ExportTraceServiceRequest{}
	if mt == "application/json" {
		return req, true, protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(body, req)
	}
	return req, false, proto.Unmarshal(body, req)
}

func (c *Console) serveOTLPHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" {
		http.Error(w, "the local console receives traces only (/v1/traces)", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOTLPBody+1))
	if err != nil || len(body) > maxOTLPBody {
		c.stats.BadOTLP.Add(1)
		http.Error(w, "body unreadable or too large", http.StatusRequestEntityTooLarge)
		return
	}
	req, isJSON, err := decodeOTLPHTTP(r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"), body)
	if err != nil {
		c.stats.BadOTLP.Add(1)
		http.Error(w, "bad OTLP request: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := &collectortrace.ExportTraceServiceResponse{}
	if n := c.ingestOTLP(req); n > 0 {
		resp.PartialSuccess = &collectortrace.ExportTracePartialSuccess{RejectedSpans: n, ErrorMessage: fmt.Sprintf("%d spans rejected", n)}
	}
	var out []byte
	if isJSON {
		out, _ = protojson.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
	} else {
		out, _ = proto.Marshal(resp)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	_, _ = w.Write(out)
}
