package xrayudp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
)

// fakeClock advances only when the pacer sleeps.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_800_000_000, 0)} }

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(ctx context.Context, abort <-chan struct{}, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-abort:
		return false
	default:
	}
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return true
}

// blockedClock never finishes a sleep: only ctx or abort end it.
type blockedClock struct{ sleeping chan struct{} }

func (blockedClock) Now() time.Time { return time.Unix(1_800_000_000, 0) }

func (c blockedClock) Sleep(ctx context.Context, abort <-chan struct{}, _ time.Duration) bool {
	select {
	case c.sleeping <- struct{}{}:
	default:
	}
	select {
	case <-ctx.Done():
	case <-abort:
	}
	return false
}

// scripted answers the pacer's looks from a list (the last one repeats).
type scripted struct {
	states []rxState
	err    error
	looks  int
}

func (s *scripted) query(_, _ *net.UDPAddr) (rxState, error) {
	s.looks++
	if s.err != nil {
		return rxState{}, s.err
	}
	st := s.states[min(s.looks, len(s.states))-1]
	return st, nil
}

func someAddrs() (local, remote *net.UDPAddr) {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2000}
}

func costsOf(c int) func(int) int { return func(int) int { return c } }

func TestDatagramCost(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{1, 512 + 256},
		{700, 1024 + 256},
		{1000, 2048 + 256}, // a typical segment: what the kernel charged in our measurements
		{1728, 2048 + 256},
		{1729, 4096 + 256},
		{65507, 131072 + 256},
	} {
		assert.Equal(t, tc.want, datagramCost(tc.n), "datagramCost(%d)", tc.n)
	}
}

// TestPacerBucket: without feedback the bytes written never exceed the
// burst plus the rate times the (fake) time elapsed, and the rate is
// reached, whatever the batch sizes.
func TestPacerBucket(t *testing.T) {
	clk := newFakeClock()
	const rate, burst, cost = 1 << 20, 64 << 10, 2304
	p := newPacer(rate, burst, clk)
	start := clk.Now()
	ctx := context.Background()
	sent := 0
	for i := range 2000 {
		n := 1 + i%64
		for n > 0 {
			k := p.take(ctx, nil, costsOf(cost), n)
			require.Positive(t, k)
			require.LessOrEqual(t, k, n)
			sent += k * cost
			n -= k
			elapsed := clk.Now().Sub(start).Seconds()
			require.LessOrEqual(t, float64(sent), burst+rate*elapsed+cost, "after %v", elapsed)
		}
	}
	elapsed := clk.Now().Sub(start).Seconds()
	assert.InDelta(t, rate, float64(sent)/elapsed, rate*0.05, "sustained rate")
}

func TestPacerBucketFirstBurstAndOversize(t *testing.T) {
	clk := newFakeClock()
	p := newPacer(1<<20, 64<<10, clk)
	ctx := context.Background()
	assert.Equal(t, 28, p.take(ctx, nil, costsOf(2304), 64), "a full bucket lets 64 KiB go at once")
	assert.Empty(t, clk.sleeps)
	// A datagram larger than the whole burst goes alone once the bucket is full.
	assert.Equal(t, 1, p.take(ctx, nil, costsOf(131072+256), 3))
	assert.Len(t, clk.sleeps, 1)
}

func TestPacerUnpaced(t *testing.T) {
	p := newPacer(0, 0, newFakeClock())
	p.withFeedback(&scripted{err: errNotVisible}, someAddrs)
	assert.Equal(t, 64, p.take(context.Background(), nil, costsOf(1<<16), 64))
}

func TestPacerFeedback(t *testing.T) {
	clk := newFakeClock()
	q := &scripted{states: []rxState{
		{queued: 0, limit: 212992},      // empty: up to a burst
		{queued: 100000, limit: 212992}, // under half: what keeps it there (6,496 bytes)
		{queued: 150000, limit: 212992}, // over half: wait
		{queued: 120000, limit: 212992}, // still over half
		{queued: 100000, limit: 212992}, // under half, but having waited: on until a quarter
		{queued: 40000, limit: 212992},  // under a quarter: a burst
	}}
	p := newPacer(DefaultSendRate, DefaultSendBurst, clk)
	p.withFeedback(q, someAddrs)
	ctx := context.Background()
	assert.Equal(t, 28, p.take(ctx, nil, costsOf(2304), 64), "an empty daemon queue: one burst")
	assert.Equal(t, 1, q.looks)
	assert.Equal(t, 2, p.take(ctx, nil, costsOf(2304), 36), "sends what fits under half the buffer")
	assert.Equal(t, 2, q.looks)
	assert.Empty(t, clk.sleeps)
	assert.Equal(t, 28, p.take(ctx, nil, costsOf(2304), 34), "after waiting, a burst rather than a trickle")
	assert.Equal(t, 6, q.looks)
	assert.Equal(t, []time.Duration{100 * time.Microsecond, 200 * time.Microsecond, 400 * time.Microsecond}, clk.sleeps, "backs off while the daemon catches up")
}

func TestPacerFeedbackStall(t *testing.T) {
	clk := newFakeClock()
	q := &scripted{states: []rxState{{queued: 212992, limit: 212992, drops: 7}}}
	p := newPacer(DefaultSendRate, DefaultSendBurst, clk)
	p.withFeedback(q, someAddrs)
	var stalled uint64
	p.stalled = func(n uint64) { stalled += n }
	var drops atomic.Uint64
	p.rxDrops = &drops
	assert.Equal(t, 0, p.take(context.Background(), nil, costsOf(2304), 10), "a daemon that never reads: give up")
	assert.Equal(t, uint64(10), stalled)
	assert.Zero(t, drops.Load(), "drops before the first look are not ours to count")
	q.states = append(q.states, rxState{queued: 0, limit: 212992, drops: 12})
	assert.Equal(t, 28, p.take(context.Background(), nil, costsOf(2304), 64))
	assert.Equal(t, uint64(5), drops.Load(), "drops since the first look")
	var waited time.Duration
	for _, d := range clk.sleeps {
		waited += d
	}
	assert.GreaterOrEqual(t, waited, maxStall-5*time.Millisecond)
	assert.LessOrEqual(t, waited, maxStall+5*time.Millisecond)

	// Stuck again: a second of waiting, then the next batch gets one look
	// and no wait.
	q.states = []rxState{{queued: 212992, limit: 212992, drops: 12}}
	assert.Equal(t, 0, p.take(context.Background(), nil, costsOf(2304), 4))
	assert.Equal(t, uint64(14), stalled)
	sleeps, looks := len(clk.sleeps), q.looks
	assert.Equal(t, 0, p.take(context.Background(), nil, costsOf(2304), 4))
	assert.Equal(t, uint64(18), stalled)
	assert.Equal(t, sleeps, len(clk.sleeps), "no second wait for a stuck daemon")
	assert.Equal(t, looks+1, q.looks)
}

// TestPacerNotVisible: when the daemon's socket cannot be seen the token
// bucket paces, and the pacer looks again only once a second.
func TestPacerNotVisible(t *testing.T) {
	clk := newFakeClock()
	q := &scripted{err: errNotVisible}
	p := newPacer(1<<20, 64<<10, clk)
	p.withFeedback(q, someAddrs)
	ctx := context.Background()
	for range 20 {
		require.Positive(t, p.take(ctx, nil, costsOf(2304), 64))
	}
	// 20 takes of up to 28 datagrams at 1 MiB/s span about 0.6 s of fake time.
	assert.Equal(t, 1, q.looks)
	for range 40 {
		require.Positive(t, p.take(ctx, nil, costsOf(2304), 64))
	}
	assert.Equal(t, 2, q.looks, "looked again after a second")
}

func TestPacerAbort(t *testing.T) {
	p := newPacer(1, 1, newFakeClock())
	abort := make(chan struct{})
	ctx := context.Background()
	assert.Equal(t, 1, p.take(ctx, abort, costsOf(2304), 2))
	close(abort)
	assert.Equal(t, 0, p.take(ctx, abort, costsOf(2304), 2))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	q := newPacer(1, 1, newFakeClock())
	assert.Equal(t, 1, q.take(cctx, nil, costsOf(2304), 1), "a full bucket needs no wait")
	assert.Equal(t, 0, q.take(cctx, nil, costsOf(2304), 1), "a wait ends with ctx")
}

// TestRxProbe reads a real socket's receive queue the way the pacer does,
// however the daemon binds.
func TestRxProbe(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sock_diag is Linux-only")
	}
	for _, tc := range []struct{ name, bind, send string }{
		{"loopback", "127.0.0.1:0", "127.0.0.1"},
		{"any address", "0.0.0.0:0", "127.0.0.1"},
		{"ipv6", "[::1]:0", "::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ua, err := net.ResolveUDPAddr("udp", tc.bind)
			require.NoError(t, err)
			d, err := net.ListenUDP("udp", ua) // never read
			if err != nil {
				t.Skipf("cannot bind %s: %v", tc.bind, err)
			}
			defer d.Close()
			port := d.LocalAddr().(*net.UDPAddr).Port
			s := sender{addr: net.JoinHostPort(tc.send, fmt.Sprint(port)), timeout: time.Second}
			defer s.close()
			local, remote := s.addrs()
			require.NotNil(t, local)
			var p rxProbe
			defer p.close()
			st, err := p.query(local, remote)
			require.NoError(t, err)
			assert.Zero(t, st.queued)
			assert.Positive(t, st.limit)
			for range 10 {
				_, err := s.conn.Write(make([]byte, 1000))
				require.NoError(t, err)
			}
			st, err = p.query(local, remote)
			require.NoError(t, err)
			assert.Equal(t, 10*datagramCost(1000), st.queued, "the kernel's charge matches datagramCost")
			assert.Zero(t, st.drops)

			// Nobody bound there: not visible.
			require.NoError(t, d.Close())
			_, err = p.query(local, remote)
			assert.True(t, errors.Is(err, errNotVisible), "err = %v", err)
		})
	}
}

// TestExporterAbortCountsUnsent: a pacing wait that Abort cuts short counts
// the datagrams it had not written as dropped, and the export says so.
func TestExporterAbortCountsUnsent(t *testing.T) {
	d := newFakeDaemon(t)
	clk := blockedClock{sleeping: make(chan struct{}, 1)}
	x, err := NewExporter(Options{DaemonAddress: d.addr(), SendRate: 1, SendBurst: 1, clock: clk, noFeedback: true})
	require.NoError(t, err)
	spans := make([]sdktrace.ReadOnlySpan, 10)
	for i := range spans {
		spans[i] = stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()
	}
	done := make(chan error)
	go func() { done <- x.ExportSpans(context.Background(), spans) }()
	<-clk.sleeping // one datagram went; the pacer waits for the next
	x.Abort()
	err = <-done
	require.Error(t, err)
	assert.ErrorIs(t, err, errAborted)
	assert.Equal(t, Stats{Sent: 1, Dropped: 9}, x.Stats())
	err = x.ExportSpans(context.Background(), spans[:3])
	assert.ErrorIs(t, err, errAborted, "later exports give up at once")
	assert.Equal(t, Stats{Sent: 1, Dropped: 12}, x.Stats())
	require.NoError(t, x.Shutdown(context.Background()))
}

// TestProcessorShutdownBoundedWhilePacing: spans the pacing has not sent by
// Shutdown's deadline are counted as dropped, Shutdown returns, and the
// goroutine finishes; sent + dropped equals the spans ended.
func TestProcessorShutdownBoundedWhilePacing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	d := newFakeDaemon(t)
	defer d.close()
	clk := blockedClock{sleeping: make(chan struct{}, 1)}
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), SendRate: 1, SendBurst: 1, clock: clk, noFeedback: true})
	require.NoError(t, err)
	const n = 100
	snap := stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot()
	for range n {
		p.OnEnd(snap)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-clk.sleeping; cancel() }() // the deadline passes while the pacer waits
	err = p.Shutdown(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	<-p.done
	st := p.Stats()
	assert.Equal(t, uint64(n), st.Sent+st.Dropped, "every span sent or counted: %+v", st)
	assert.Equal(t, uint64(1), st.Sent, "the bucket let one datagram go")
	d.wait(t, 1)
}
