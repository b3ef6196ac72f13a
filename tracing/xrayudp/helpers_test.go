package xrayudp

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/udpsink"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// The transport's tests need spans, not translation detail: the documents
// themselves are tested (goldens, fuzzing) in tracing/xraysegment.

var (
	testTraceID = trace.TraceID{0x57, 0x59, 0xe9, 0x88, 0xbd, 0x86, 0x2e, 0x3f, 0xe1, 0xbe, 0x46, 0xa9, 0x94, 0x27, 0x27, 0x93}
	testSpanID  = trace.SpanID{0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8}
	testParent  = trace.SpanID{0x7f, 0x3a, 0x9c, 0x2e, 0x1b, 0x4d, 0x5a, 0x60}
	testStart   = time.Date(2026, 11, 25, 17, 0, 0, 123456000, time.UTC)
	testEnd     = testStart.Add(64198 * time.Microsecond)
)

func spanCtx(id trace.SpanID, remote bool) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: id, TraceFlags: trace.FlagsSampled, Remote: remote})
}

func plainResource() *resource.Resource {
	return resource.NewSchemaless(attribute.String("service.name", "orders"))
}

func stub(kind trace.SpanKind, parent trace.SpanContext, attrs ...attribute.KeyValue) tracetest.SpanStub {
	return tracetest.SpanStub{
		Name:        "span",
		SpanContext: spanCtx(testSpanID, false),
		Parent:      parent,
		SpanKind:    kind,
		StartTime:   testStart,
		EndTime:     testEnd,
		Attributes:  attrs,
		Resource:    plainResource(),
	}
}

// typicalServerSpan is what the HTTP middleware produces for one request:
// about ten attributes.
func typicalServerSpan() sdktrace.ReadOnlySpan {
	s := stub(trace.SpanKindServer, spanCtx(testParent, true),
		attribute.String("http.request.method", "GET"),
		attribute.String("url.scheme", "https"),
		attribute.String("server.address", "api.example.com"),
		attribute.String("url.path", "/orders/42"),
		attribute.String("http.route", "/orders/{id}"),
		attribute.Int("http.response.status_code", 200),
		attribute.String("client.address", "203.0.113.7"),
		attribute.String("network.peer.address", "10.0.1.23"),
		attribute.String("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)"),
		attribute.Int("http.response.body.size", 1234),
		attribute.String("network.protocol.version", "1.1"),
	)
	s.Name = "GET /orders/{id}"
	return s.Snapshot()
}

func localRootStub() tracetest.SpanStub {
	return stub(trace.SpanKindClient, trace.SpanContext{},
		attribute.String("aws.span.kind", "LOCAL_ROOT"),
		attribute.String("aws.local.service", "orders"),
		attribute.String("aws.remote.service", "inventory"),
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "http://inventory/items"),
		attribute.Int("http.response.status_code", 200),
	)
}

// A datagram is the daemon header followed by exactly the translator's document.
func TestAppendDatagram(t *testing.T) {
	enc := xraysegment.NewEncoder(xraysegment.Config{})
	span := typicalServerSpan()
	doc := enc.AppendSegment(nil, span)
	dg := appendDatagram(enc, []byte("x"), span)
	assert.Equal(t, "x"+`{"format": "json", "version": 1}`+"\n"+string(doc), string(dg))
	assert.Equal(t, MaxDatagramSize, 65507)
}

// A LOCAL_ROOT client span is two datagrams: the service segment first,
// then the dependency subsegment hanging from it.
func TestLocalRootSplitOverUDP(t *testing.T) {
	d := newFakeDaemon(t)
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	p.OnEnd(localRootStub().Snapshot())
	require.NoError(t, p.Shutdown(context.Background()))
	got := d.wait(t, 2)
	var seg, sub map[string]any
	require.NoError(t, json.Unmarshal(got[0][len(header):], &seg))
	require.NoError(t, json.Unmarshal(got[1][len(header):], &sub))
	assert.Equal(t, seg["id"], sub["parent_id"])
	assert.Equal(t, uint64(2), p.Stats().Sent)
}

func BenchmarkOnEnd(b *testing.B) {
	// The daemon stand-in (kernel-default buffer, one reader): the pacing
	// keeps the sender within what it drains, and the timed flush charges
	// the sending. cpu-ns/op is the process's CPU per span, stand-in
	// included; drops/op shows the queue overflowing when OnEnd outruns
	// the daemon.
	sink, err := udpsink.Listen(udpsink.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	p, err := NewSpanProcessor(Options{DaemonAddress: sink.Addr(), QueueSize: 1 << 16})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	span := typicalServerSpan()
	b.ReportAllocs()
	cpu0 := processCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.OnEnd(span)
		}
	})
	// Sending is charged too: the queue is large enough to hide it otherwise.
	if err := p.ForceFlush(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	st := p.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "drops/op")
}

// processCPU is the user+system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
