package xrayudp

import (
	"context"
	"math/bits"
	"net"
	"sync/atomic"
	"time"
)

// The daemon reads its UDP socket with the kernel-default receive buffer
// (net.core.rmem_default, 208 KiB on most Linux hosts) and gives no
// feedback: a datagram that arrives while the buffer is full is dropped by
// the receiving kernel, and the sender never learns of it (on loopback and
// veth the datagram leaves the sender's socket at once, so its send queue
// says nothing either). The only protection is not to send faster, or in
// larger bursts, than a default-sized buffer drained by one reader absorbs.
//
// The pacer is a token bucket over the receive-buffer bytes each datagram
// takes: up to [DefaultSendBurst] at once, then [DefaultSendRate] per
// second. It runs on the exporter's goroutine (never on the request path):
// while it waits, ended spans wait in the bounded queue, and when that is
// full they are dropped and counted.

// DefaultSendRate is Options.SendRate's default: receive-buffer bytes per
// second, as [datagramCost] counts them.
const DefaultSendRate = 32 << 20

// DefaultSendBurst is the most receive-buffer bytes sent back to back
// (as [datagramCost] counts them): well under a third of a 208 KiB default
// buffer, so a reader that is not scheduled for a while still has room.
const DefaultSendBurst = 64 << 10

// datagramCost estimates what a datagram of n bytes takes in the receiver's
// buffer: Linux charges the buffer's true size (the data area, rounded up
// to a power of two with its headers and shared info, plus the sk_buff),
// which for a 1 KiB segment is about 2.3 KiB.
func datagramCost(n int) int {
	const headroom, skb = 320, 256
	return 1<<bits.Len(uint(n+headroom-1)) + skb
}

// clock is the pacer's time source; tests inject a fake one.
type clock interface {
	Now() time.Time
	// Sleep waits for d, or until ctx ends or abort is closed; it reports
	// whether the whole wait happened.
	Sleep(ctx context.Context, abort <-chan struct{}, d time.Duration) bool
}

// realClock sleeps on one reused timer (the pacer is used by one goroutine
// at a time).
type realClock struct{ t *time.Timer }

func newRealClock() *realClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &realClock{t: t}
}

func (*realClock) Now() time.Time { return time.Now() }

func (c *realClock) Sleep(ctx context.Context, abort <-chan struct{}, d time.Duration) bool {
	c.t.Reset(d)
	defer c.t.Stop()
	select {
	case <-c.t.C:
		return true
	case <-ctx.Done():
		return false
	case <-abort:
		return false
	}
}

// rxQuerier reads the daemon socket's receive queue ([rxProbe]; tests
// inject scripted states).
type rxQuerier interface {
	query(local, remote *net.UDPAddr) (rxState, error)
}

// rxState is the daemon socket's receive queue as the kernel reports it.
type rxState struct {
	queued int    // bytes (true size) waiting to be read
	limit  int    // the receive buffer's size
	drops  uint64 // datagrams the socket dropped since it was opened
}

// maxStall is how long the pacer waits for a daemon whose receive buffer
// stays full before it gives up on the datagrams in hand (counting them as
// dropped): a daemon that does not read would lose them anyway. Until the
// daemon has room again, later batches get one look, not another wait, so
// a stuck daemon costs neither a second per batch nor a slow Shutdown.
const maxStall = time.Second

// pacer decides when the next datagrams may be written. It is not safe for
// concurrent use (the exporter's mutex serialises it).
//
// Where the daemon's socket is visible (Linux, same network namespace) it
// reads that socket's receive queue and sends only while the queue is under
// half the buffer, at most burst bytes between two looks: the sender then
// goes exactly as fast as the daemon reads, and never overruns it.
// Elsewhere it is a token bucket: burst bytes at once, rate per second.
type pacer struct {
	rate   float64 // token bucket: bytes per second; 0 disables pacing
	burst  float64 // bucket size, and the most bytes sent between two looks
	tokens float64
	last   time.Time
	clk    clock

	// receive-queue feedback
	probe      rxQuerier
	addrs      func() (local, remote *net.UDPAddr) // nil: no feedback
	visible    bool
	nextLookup time.Time
	room       int            // bytes that may still go before the next look
	stalled    func(uint64)   // called when a stall drops datagrams (with how many)
	rxDrops0   uint64         // the daemon socket's drop count when first seen
	rxDrops    *atomic.Uint64 // drops seen since (nil: not kept)
	rxSeen     bool
	stuck      bool // the last wait for room ended in a stall
}

func newPacer(rate, burst int, clk clock) pacer {
	p := pacer{clk: clk}
	if rate <= 0 {
		return p // unpaced
	}
	p.rate = float64(rate)
	p.burst = float64(max(burst, 1))
	p.tokens = p.burst
	p.last = clk.Now()
	return p
}

// withFeedback makes the pacer read the daemon socket's queue through probe
// for the socket addrs returns.
func (p *pacer) withFeedback(probe rxQuerier, addrs func() (local, remote *net.UDPAddr)) {
	if p.rate == 0 {
		return // unpaced on request
	}
	p.probe, p.addrs = probe, addrs
}

func (p *pacer) refill() {
	now := p.clk.Now()
	if d := now.Sub(p.last); d > 0 {
		p.tokens = min(p.burst, p.tokens+d.Seconds()*p.rate)
	}
	p.last = now
}

// look reads the daemon socket's queue; it reports whether it could. It
// sets the room for the next burst: while the queue is under half the
// buffer, what keeps it there (at most a burst). Once the pacer has had to
// wait (hysteresis), it waits on until the queue is down to a quarter, so
// that it then sends a burst rather than a trickle of single datagrams,
// each costing a look and a system call of its own.
func (p *pacer) look(waited bool) bool {
	local, remote := p.addrs()
	st, err := p.probe.query(local, remote)
	if err != nil {
		p.visible = false
		p.nextLookup = p.clk.Now().Add(time.Second)
		return false
	}
	p.visible = true
	if !p.rxSeen {
		p.rxDrops0, p.rxSeen = st.drops, true
	}
	if st.drops >= p.rxDrops0 && p.rxDrops != nil {
		p.rxDrops.Store(st.drops - p.rxDrops0)
	}
	p.room = min(st.limit/2-st.queued, int(p.burst))
	if waited && st.queued > st.limit/4 {
		p.room = 0
	}
	return true
}

// take returns how many of the n datagrams (costs(i) is the i-th one's
// cost) may be written now, waiting first if not even the first may. It
// returns at least 1, or 0 when the wait was cut short by ctx or abort, or
// the daemon stopped reading for maxStall (then the caller drops them).
func (p *pacer) take(ctx context.Context, abort <-chan struct{}, costs func(i int) int, n int) int {
	if p.rate == 0 || n == 0 {
		return n
	}
	if p.addrs != nil && (p.visible || !p.clk.Now().Before(p.nextLookup)) {
		if k, ok := p.takeFeedback(ctx, abort, costs, n); ok {
			return k
		}
	}
	return p.takeBucket(ctx, abort, costs, n)
}

// takeFeedback paces by the daemon's receive queue; ok is false when the
// socket is not visible.
func (p *pacer) takeFeedback(ctx context.Context, abort <-chan struct{}, costs func(i int) int, n int) (k int, ok bool) {
	wait := 100 * time.Microsecond
	var since time.Time
	need := min(costs(0), int(p.burst)) // a datagram larger than a burst waits for a burst's room
	patience := maxStall
	if p.stuck {
		patience = 0 // the daemon stalled before and has not read since: one look only
	}
	for waited := false; p.room < need; {
		if !p.look(waited) {
			return 0, false
		}
		if p.room >= need {
			break
		}
		now := p.clk.Now()
		if since.IsZero() {
			since = now
		}
		if now.Sub(since) >= patience {
			p.stuck = true
			if p.stalled != nil {
				p.stalled(uint64(n))
			}
			return 0, true
		}
		if !p.clk.Sleep(ctx, abort, wait) {
			return 0, true
		}
		waited = true
		wait = min(2*wait, 5*time.Millisecond)
	}
	p.stuck = false
	for k < n {
		c := costs(k)
		if k > 0 && c > p.room {
			break
		}
		p.room -= c
		k++
	}
	return k, true
}

// takeBucket paces by the token bucket.
func (p *pacer) takeBucket(ctx context.Context, abort <-chan struct{}, costs func(i int) int, n int) int {
	p.refill()
	first := min(float64(costs(0)), p.burst)
	if p.tokens < first {
		// Wait for the first datagram and, so that sleeps are not tiny,
		// for half a burst when the batch holds that much.
		want := first
		sum := 0.0
		for i := 0; i < n && sum < p.burst/2; i++ {
			sum += float64(costs(i))
		}
		want = max(want, min(sum, p.burst/2))
		wait := time.Duration((want - p.tokens) / p.rate * float64(time.Second))
		if !p.clk.Sleep(ctx, abort, wait) {
			return 0
		}
		p.refill()
		if p.tokens < first { // a clock that slept short
			p.tokens = first
		}
	}
	k := 0
	for k < n {
		c := float64(costs(k))
		if k > 0 && c > p.tokens {
			break
		}
		p.tokens -= min(c, p.burst)
		k++
	}
	return k
}
