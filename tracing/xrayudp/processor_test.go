package xrayudp

import (
	"context"
	"encoding/json"
	"github.com/o11y-go/o11y/tracing/xraysegment"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/o11y-go/o11y/internal/udpsink"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

// fakeDaemon is the daemon stand-in (internal/udpsink: kernel-default
// receive buffer, one reader, a hand-off per datagram) keeping every
// datagram.
type fakeDaemon struct {
	sink *udpsink.Sink
	mu   sync.Mutex
	got  [][]byte
}

func newFakeDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	d := &fakeDaemon{}
	s, err := udpsink.Listen(udpsink.Options{Handle: func(b []byte) {
		d.mu.Lock()
		d.got = append(d.got, b)
		d.mu.Unlock()
	}})
	require.NoError(t, err)
	d.sink = s
	t.Cleanup(d.close)
	return d
}

func (d *fakeDaemon) addr() string { return d.sink.Addr() }

func (d *fakeDaemon) close() { _ = d.sink.Close() } // idempotent

// wait returns the datagrams once n have arrived and nothing more is in the
// socket, failing unless exactly n arrived (the timeout only bounds a
// failing test).
func (d *fakeDaemon) wait(t *testing.T, n int) [][]byte {
	t.Helper()
	d.sink.WaitHandled(int64(n), 10*time.Second)
	d.sink.Settle(10 * time.Second)
	d.mu.Lock()
	defer d.mu.Unlock()
	require.Len(t, d.got, n)
	require.Zero(t, d.sink.Lost(), "datagrams lost at the stand-in")
	return append([][]byte(nil), d.got...)
}

// waitQuiet is wait without printing the datagrams on failure.
func (d *fakeDaemon) waitQuiet(t *testing.T, n int) [][]byte {
	t.Helper()
	d.sink.WaitHandled(int64(n), 10*time.Second)
	d.sink.Settle(10 * time.Second)
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.got) != n || d.sink.Lost() != 0 {
		t.Fatalf("got %d datagrams, want %d (lost at the stand-in: %d)", len(d.got), n, d.sink.Lost())
	}
	return append([][]byte(nil), d.got...)
}

func TestProcessorLoopback(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	var errs []error
	var mu sync.Mutex
	p, err := NewSpanProcessor(Options{
		DaemonAddress: d.addr(),
		ErrorHandler:  func(e error) { mu.Lock(); errs = append(errs, e); mu.Unlock() },
	})
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p), sdktrace.WithResource(plainResource()))
	tr := tp.Tracer("test")

	ctx, server := tr.Start(context.Background(), "GET /x", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", 200)))
	_, client := tr.Start(ctx, "GET", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("peer.service", "inventory"), attribute.String("url.full", "http://inv/items")))
	client.End()
	server.End()
	require.NoError(t, tp.ForceFlush(context.Background()))

	got := d.wait(t, 2)
	var docs []map[string]any
	for _, dg := range got {
		require.True(t, strings.HasPrefix(string(dg), `{"format": "json", "version": 1}`+"\n"), "header: %q", dg)
		require.NoError(t, xrayvalidate.ValidateDatagram(dg))
		var m map[string]any
		require.NoError(t, json.Unmarshal(dg[len(header):], &m))
		docs = append(docs, m)
	}
	sub, seg := docs[0], docs[1]
	assert.Equal(t, "inventory", sub["name"])
	assert.Equal(t, "subsegment", sub["type"])
	assert.Equal(t, seg["id"], sub["parent_id"], "subsegment points at the segment")
	assert.Equal(t, seg["trace_id"], sub["trace_id"])
	assert.Equal(t, "orders", seg["name"])
	assert.Equal(t, Stats{Sent: 2}, p.Stats())

	require.NoError(t, tp.Shutdown(context.Background()))
	// After shutdown spans are dropped and counted, never block.
	p.OnEnd(stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	assert.Equal(t, uint64(1), p.Stats().Dropped)
	assert.Empty(t, errs)
}

func TestProcessorDropsUnsampled(t *testing.T) {
	d := newFakeDaemon(t)
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	s := stub(trace.SpanKindServer, trace.SpanContext{})
	s.SpanContext = s.SpanContext.WithTraceFlags(0)
	p.OnEnd(s.Snapshot())
	p.OnEnd(nil)
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, Stats{}, p.Stats())
}

func TestProcessorDaemonAbsent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// Reserve a port, then close it so nobody listens there.
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	addr := c.LocalAddr().String()
	require.NoError(t, c.Close())

	var reports []error
	var mu sync.Mutex
	p, err := NewSpanProcessor(Options{DaemonAddress: addr, ErrorHandler: func(e error) { mu.Lock(); reports = append(reports, e); mu.Unlock() }})
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	for i := 0; i < 20; i++ {
		_, s := tp.Tracer("t").Start(context.Background(), "x")
		s.End()
		require.NoError(t, p.ForceFlush(context.Background()))
	}
	require.NoError(t, tp.Shutdown(context.Background()), "a missing daemon is not an application error")
	st := p.Stats()
	assert.Equal(t, uint64(20), st.Sent+st.Errors)
	assert.Positive(t, st.Errors, "ICMP port unreachable is counted")
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, reports)
	assert.Less(t, len(reports), 3, "reports are rate-limited")
	assert.Contains(t, reports[0].Error(), "no X-Ray daemon listening")
}

func TestProcessorUnresolvableHost(t *testing.T) {
	p, err := NewSpanProcessor(Options{DaemonAddress: "no-such-host.invalid:2000", WriteTimeout: 50 * time.Millisecond})
	require.NoError(t, err, "construction never touches the network")
	p.OnEnd(stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	p.OnEnd(stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	require.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, uint64(2), p.Stats().Errors)
}

func TestProcessorBadAddress(t *testing.T) {
	_, err := NewSpanProcessor(Options{DaemonAddress: "udp:127.0.0.1:2000"})
	require.Error(t, err)
	_, err = NewExporter(Options{DaemonAddress: "nope"})
	require.Error(t, err)
}

// blockingSpan stalls the encoder (via Attributes) so the queue fills up.
// entered (if not nil) receives once the encoder is stalled.
type blockingSpan struct {
	sdktrace.ReadOnlySpan
	release chan struct{}
	entered chan struct{}
}

func (b blockingSpan) Attributes() []attribute.KeyValue {
	if b.entered != nil {
		select {
		case b.entered <- struct{}{}:
		default:
		}
	}
	<-b.release
	return b.ReadOnlySpan.Attributes()
}

func TestProcessorQueueOverflow(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), QueueSize: 4})
	require.NoError(t, err)
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	snap := stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()
	p.OnEnd(blockingSpan{snap, release, entered}) // the worker takes it and blocks
	<-entered
	require.Zero(t, p.queued())

	// OnEnd never blocks: the worker is stuck, yet all 100 calls return
	// (the test would hang otherwise) and the overflow is counted.
	for i := 0; i < 100; i++ {
		p.OnEnd(snap)
	}
	// QueueSize bounds waiting + in flight: 1 being sent, 3 waiting.
	assert.Equal(t, uint64(97), p.Stats().Dropped)

	// Flush cannot finish while the worker is stuck: the error names the backlog.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	err = p.ForceFlush(ctx)
	cancel()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "3 spans not sent")

	close(release)
	require.NoError(t, p.Shutdown(context.Background()))
	d.wait(t, 4)
	assert.Equal(t, uint64(4), p.Stats().Sent)
}

func TestProcessorShutdownDeadline(t *testing.T) {
	p, err := NewSpanProcessor(Options{DaemonAddress: newFakeDaemon(t).addr(), QueueSize: 8})
	require.NoError(t, err)
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	snap := stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()
	p.OnEnd(blockingSpan{snap, release, entered})
	<-entered
	p.OnEnd(snap)
	p.OnEnd(snap)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = p.Shutdown(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "2 spans not sent")
	close(release)
	<-p.done
	require.NoError(t, p.Shutdown(context.Background()), "second shutdown is a no-op")
}

func TestNilProcessorAndExporter(t *testing.T) {
	var p *Processor
	p.OnStart(context.Background(), nil)
	p.OnEnd(nil)
	assert.NoError(t, p.ForceFlush(context.Background()))
	assert.NoError(t, p.Shutdown(context.Background()))
	assert.Equal(t, Stats{}, p.Stats())
	var x *Exporter
	assert.NoError(t, x.ExportSpans(context.Background(), nil))
	assert.NoError(t, x.Shutdown(context.Background()))
	assert.Equal(t, Stats{}, x.Stats())
}

func TestExporterWithBatchProcessor(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	x, err := NewExporter(Options{DaemonAddress: d.addr(), Segments: xraysegment.Config{SegmentName: "batch-svc"}})
	require.NoError(t, err)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(x))
	for i := 0; i < 3; i++ {
		_, s := tp.Tracer("t").Start(context.Background(), "op", trace.WithSpanKind(trace.SpanKindServer))
		s.End()
	}
	require.NoError(t, tp.Shutdown(context.Background()))
	for _, dg := range d.wait(t, 3) {
		require.NoError(t, xrayvalidate.ValidateDatagram(dg))
		assert.Contains(t, string(dg), `"name":"batch-svc"`)
	}
	assert.Equal(t, uint64(3), x.Stats().Sent)
	// After shutdown: no-op.
	require.NoError(t, x.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()}))
	assert.Equal(t, uint64(3), x.Stats().Sent)
}

func TestExporterCanceledContext(t *testing.T) {
	x, err := NewExporter(Options{DaemonAddress: newFakeDaemon(t).addr()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spans := []sdktrace.ReadOnlySpan{stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()}
	err = x.ExportSpans(ctx, spans)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 spans not sent")
	require.NoError(t, x.Shutdown(context.Background()))
}

// panicSpan makes the encoder panic.
type panicSpan struct{ sdktrace.ReadOnlySpan }

func (panicSpan) Attributes() []attribute.KeyValue { panic("boom") }

func TestEncoderPanicIsContained(t *testing.T) {
	d := newFakeDaemon(t)
	var reports []error
	var mu sync.Mutex
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), ErrorHandler: func(e error) { mu.Lock(); reports = append(reports, e); mu.Unlock() }})
	require.NoError(t, err)
	snap := stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()
	p.OnEnd(panicSpan{snap})
	p.OnEnd(snap)
	require.NoError(t, p.Shutdown(context.Background()))
	d.wait(t, 1)
	assert.Equal(t, Stats{Sent: 1, Errors: 1}, p.Stats())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, reports, 1)
	assert.Contains(t, reports[0].Error(), "panicked")

	x, err := NewExporter(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	require.NoError(t, x.ExportSpans(context.Background(), []sdktrace.ReadOnlySpan{panicSpan{snap}, snap}))
	d.wait(t, 2)
	assert.Equal(t, Stats{Sent: 1, Errors: 1}, x.Stats())
	require.NoError(t, x.Shutdown(context.Background()))
}

// TestProcessorBatches sends more datagrams than fit one batch (client spans
// with a local parent add their service segment) and checks every one
// arrives intact and is counted once.
func TestProcessorBatches(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	server := typicalServerSpan()
	client := stub(trace.SpanKindClient, trace.SpanContext{}, attribute.String("aws.span.kind", "LOCAL_ROOT")).Snapshot()
	_, twoDocs := p.x.enc.AppendLocalRootSegment(nil, client)
	require.True(t, twoDocs, "the client span needs its service segment too")
	want := 0
	for i := 0; i < 3*sendBatch+7; i++ {
		p.OnEnd(server)
		want++
		if i%10 == 0 {
			p.OnEnd(client)
			want += 2 // the client span's local-root segment plus the span
		}
	}
	require.NoError(t, p.ForceFlush(context.Background()))
	got := d.waitQuiet(t, want)
	for _, dg := range got {
		require.NoError(t, xrayvalidate.ValidateDatagram(dg))
	}
	assert.Equal(t, Stats{Sent: uint64(want)}, p.Stats())
	require.NoError(t, p.Shutdown(context.Background()))
}

// TestProcessorSendsWithoutFlush: a lone span is sent after the linger time
// without anyone flushing.
func TestProcessorSendsWithoutFlush(t *testing.T) {
	d := newFakeDaemon(t)
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	defer p.Shutdown(context.Background())
	p.OnEnd(typicalServerSpan())
	d.wait(t, 1)
	p.OnEnd(typicalServerSpan()) // after going idle again
	d.wait(t, 2)
}

// slowSpan makes each encoding take a while, so the sender is never idle.
type slowSpan struct{ sdktrace.ReadOnlySpan }

func (s slowSpan) Attributes() []attribute.KeyValue {
	time.Sleep(200 * time.Microsecond)
	return s.ReadOnlySpan.Attributes()
}

// TestProcessorFlushUnderLoad: a flush is answered while a producer keeps
// the queue from ever emptying (it needs what was queued before it sent, not
// an idle queue).
func TestProcessorFlushUnderLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), QueueSize: 8})
	require.NoError(t, err)
	span := slowSpan{typicalServerSpan()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				p.OnEnd(span)
				runtime.Gosched()
			}
		}
	}()
	require.Eventually(t, func() bool { return p.Stats().Dropped > 0 }, 5*time.Second, time.Millisecond,
		"the producer outpaces the sender")
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		require.NoError(t, p.ForceFlush(ctx))
		cancel()
	}
	assert.Positive(t, p.Stats().Sent)
	close(stop)
	wg.Wait()
	require.NoError(t, p.Shutdown(context.Background()))
}

// The AWS SDK's phase spans (xraysegment.Omitted) are not sent, nor
// counted as sent or dropped: the call's CLIENT span stands for them.
func TestExporterSkipsAWSSDKPhaseSpans(t *testing.T) {
	d := newFakeDaemon(t)
	defer d.close()
	x, err := NewExporter(Options{DaemonAddress: d.addr()})
	require.NoError(t, err)
	const sdkScope = "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	call := stub(trace.SpanKindClient, spanCtx(trace.SpanID{1}, false), attribute.String("rpc.system", "aws-api"),
		attribute.String("rpc.service", "DynamoDB"), attribute.String("rpc.method", "GetItem"))
	call.InstrumentationScope.Name = sdkScope
	spans := []sdktrace.ReadOnlySpan{stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot(), call.Snapshot()}
	for _, name := range []string{"RetryLoop", "Attempt", "DoHTTPRequest"} {
		phase := stub(trace.SpanKindInternal, spanCtx(trace.SpanID{2}, false))
		phase.Name, phase.InstrumentationScope.Name = name, sdkScope
		spans = append(spans, phase.Snapshot())
	}
	require.NoError(t, x.ExportSpans(context.Background(), spans))
	got := d.wait(t, 2)
	assert.Contains(t, string(got[0])+string(got[1]), `"name":"DynamoDB"`)
	require.NoError(t, x.Shutdown(context.Background()))
	assert.Equal(t, uint64(2), x.Stats().Sent)
	assert.Zero(t, x.Stats().Dropped)
}
