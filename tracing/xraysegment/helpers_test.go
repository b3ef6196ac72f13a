package xraysegment

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/internal/xraywire"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

var (
	testTraceID = mustTraceID("5759e988bd862e3fe1be46a994272793")
	testSpanID  = mustSpanID("53995c3f42cd8ad8")
	testParent  = mustSpanID("7f3a9c2e1b4d5a60")
	testStart   = time.Date(2026, 11, 25, 17, 0, 0, 123456000, time.UTC)
	testEnd     = testStart.Add(64198 * time.Microsecond)
)

func mustTraceID(s string) trace.TraceID {
	id, err := trace.TraceIDFromHex(s)
	if err != nil {
		panic(err)
	}
	return id
}

func mustSpanID(s string) trace.SpanID {
	id, err := trace.SpanIDFromHex(s)
	if err != nil {
		panic(err)
	}
	return id
}

func spanCtx(id trace.SpanID) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: id, TraceFlags: trace.FlagsSampled})
}

func remoteParent() trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testParent, TraceFlags: trace.FlagsSampled, Remote: true})
}

func localParent() trace.SpanContext { return spanCtx(testParent) }

func res(kv ...attribute.KeyValue) *resource.Resource { return resource.NewSchemaless(kv...) }

func ecsResource() *resource.Resource {
	return res(
		attribute.String("service.name", "orders"),
		attribute.String("service.version", "1.4.2"),
		attribute.String("cloud.provider", "aws"),
		attribute.String("cloud.platform", "aws_ecs"),
		attribute.String("aws.ecs.launchtype", "fargate"),
		attribute.String("aws.ecs.task.arn", "arn:aws:ecs:eu-west-1:111122223333:task/prod/abc"),
		attribute.String("aws.ecs.cluster.arn", "arn:aws:ecs:eu-west-1:111122223333:cluster/prod"),
		attribute.String("container.name", "ip-10-0-1-23"),
		attribute.String("cloud.availability_zone", "eu-west-1a"),
		attribute.StringSlice("aws.log.group.names", []string{"/ecs/orders"}),
		attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.language", "go"),
		attribute.String("telemetry.sdk.version", "1.47.0"),
	)
}

func plainResource() *resource.Resource {
	return res(attribute.String("service.name", "orders"))
}

// testEncoder returns an encoder with deterministic exception ids.
func testEncoder(cfg Config) *Encoder {
	e := NewEncoder(cfg)
	var n uint64
	e.idSource = func() uint64 { n++; return 0xe0000000_00000000 + n }
	return e
}

// checkDoc validates doc with xrayvalidate, decodes it generically and into
// aws-xray-sdk-go's model, and returns both.
func checkDoc(t *testing.T, doc []byte) (map[string]any, *xray.Segment) {
	t.Helper()
	require.NoError(t, xrayvalidate.Validate(doc), "doc: %s", doc)
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	seg := &xray.Segment{}
	require.NoError(t, json.Unmarshal(doc, seg), "aws-xray-sdk-go model")
	require.Equal(t, m["id"], seg.ID)
	require.Equal(t, m["name"], seg.Name)
	require.Equal(t, m["trace_id"], seg.TraceID)
	require.Equal(t, m["fault"], seg.Fault)
	require.Equal(t, m["error"], seg.Error)
	require.Equal(t, m["throttle"], seg.Throttle)
	require.Greater(t, seg.StartTime, 0.0)
	require.GreaterOrEqual(t, seg.EndTime, seg.StartTime)
	return m, seg
}

// golden compares doc (indented) with testdata/<name>.json, rewriting it
// under -update.
func golden(t *testing.T, name string, doc []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, doc, "", "  "))
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name+".json")
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test -run TestGolden -update")
	require.Equal(t, string(want), buf.String())
}

// get walks a dotted path through decoded JSON; [n] is not supported, use
// index segments like "exceptions.0".
func get(m any, path string) any {
	cur := m
	for _, p := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			i := 0
			for _, ch := range p {
				i = i*10 + int(ch-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// appendDatagram is what the transport (tracing/xrayudp) writes: the daemon
// header, then the document.
func appendDatagram(e *Encoder, dst []byte, s sdktrace.ReadOnlySpan) []byte {
	return e.AppendSegment(append(dst, xraywire.Header...), s)
}
