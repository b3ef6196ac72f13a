package xraysegment

import (
	"encoding/json"
	"github.com/o11y-go/o11y/internal/xraywire"
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// FuzzAppendSegment feeds arbitrary names, keys and values (invalid UTF-8,
// control characters, huge strings) through every translation path and
// requires one valid datagram that aws-xray-sdk-go can decode.
func FuzzAppendSegment(f *testing.F) {
	f.Add("GET /a?b<c>", "tenant.id", "t1", "https://x/y", uint8(1), int64(200), 1.5, goStack, false)
	f.Add("\xff\xfe", "\x00key\u2028", "\xc3(\x1b", "http://[::1", uint8(2), int64(429), math.Copysign(0, -1), "garbage\n\t:\n", true)
	f.Add(strings.Repeat("é", 300), strings.Repeat("k", 400), strings.Repeat("\x01", 1<<20), strings.Repeat("/", 1<<16), uint8(3), int64(-1), 1e308, bigStack(100), true)
	f.Add("", "", "", "", uint8(4), int64(14), 0.0, "", false)
	f.Add("x", "otel.resource.service.name", "dup", "", uint8(5), int64(8), 2.0, "", false)
	f.Add("Secrets Manager", "orders", `{"a":{"b":[1,2,"\u2028"]}}`, `{"merged":true}`, uint8(3), int64(400), 0.5, "", true)
	f.Fuzz(func(t *testing.T, name, key, val, url string, kind uint8, num int64, fl float64, stack string, withParent bool) {
		parent := trace.SpanContext{}
		if withParent {
			parent = localParent()
		}
		s := stub(trace.SpanKind(kind%6), parent,
			attribute.String(key, val),
			attribute.Int64(key+"#n", num),
			attribute.Float64(key+"#f", fl),
			attribute.StringSlice(key+"#s", []string{val, key}),
			attribute.StringSlice(AnnotationsKey, []string{key, key + "#n", key + "#f", "a.b"}),
			attribute.String("a.b", val),
			attribute.String("a_b", val),
			attribute.String("url.full", url),
			attribute.String("http.request.method", val),
			attribute.String("server.address", val),
			attribute.String("url.path", url),
			attribute.Int64("http.response.status_code", num),
			attribute.Int64("rpc.grpc.status_code", num),
			attribute.String("peer.service", name),
			attribute.String("client.address", val),
			attribute.String("enduser.id", val),
			attribute.String("db.system", "postgresql"),
			attribute.String("db.statement", val),
			attribute.String("rpc.system", "aws-api"),
			attribute.String("aws.remote.service", name),
			attribute.StringSlice("aws.dynamodb.table_names", []string{val, name}),
			attribute.String("rpc.system.name", "aws-api"),
			attribute.String("rpc.method", name+"/"+key),
			attribute.String("rpc.response.status_code", val),
			attribute.String("aws.xray.metadata."+key, val),
			attribute.String("aws.xray.metadata.default", url),
		)
		s.Name = name
		s.Status = sdktrace.Status{Code: codes.Error, Description: val}
		s.Events = []sdktrace.Event{{Name: "exception", Attributes: []attribute.KeyValue{
			attribute.String("exception.type", key),
			attribute.String("exception.message", val),
			attribute.String("exception.stacktrace", stack),
		}}}
		s.Links = []sdktrace.Link{{SpanContext: spanCtx(testParent), Attributes: []attribute.KeyValue{attribute.String(key, val)}}}
		s.Resource = res(attribute.String("service.name", name), attribute.String(key, val), attribute.String("cloud.platform", "aws_ecs"), attribute.String("container.name", val))
		enc := NewEncoder(Config{IndexedAttributes: []string{key}, SegmentName: val, LogGroupNames: []string{val, name}})
		dg := appendDatagram(enc, nil, s.Snapshot())
		if len(dg) > xraywire.MaxDatagramSize {
			t.Fatalf("datagram %d bytes", len(dg))
		}
		if err := xrayvalidate.ValidateDatagram(dg); err != nil {
			t.Fatalf("%v\n%.2000q", err, dg)
		}
		seg := &xray.Segment{}
		if err := json.Unmarshal(dg[len(xraywire.Header):], seg); err != nil {
			t.Fatalf("aws-xray-sdk-go cannot decode: %v", err)
		}
	})
}
