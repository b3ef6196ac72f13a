package metrics

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/o11y-go/o11y/internal/emfvalidate"
)

// tcpAgent accepts connections and collects lines.
type tcpAgent struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	conns []net.Conn
	wg    sync.WaitGroup
}

func startTCPAgent(t *testing.T, addr string) *tcpAgent {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	a := &tcpAgent{ln: ln}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.conns = append(a.conns, c)
			a.mu.Unlock()
			a.wg.Add(1)
			go func() {
				defer a.wg.Done()
				sc := bufio.NewScanner(c)
				sc.Buffer(make([]byte, 64*1024), 1<<20)
				for sc.Scan() {
					a.mu.Lock()
					a.lines = append(a.lines, sc.Text())
					a.mu.Unlock()
				}
			}()
		}
	}()
	return a
}

func (a *tcpAgent) stop() {
	a.ln.Close()
	a.mu.Lock()
	for _, c := range a.conns {
		c.Close()
	}
	a.mu.Unlock()
	a.wg.Wait()
}

func (a *tcpAgent) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.lines...)
}

// stagedDialer is the sink's dialer in tests: it dials for real while up;
// while down, a connect hangs until the test fails it (fail), so a Flush
// that waited for the agent would never return. Every connection it made
// can be cut from the client side (cut), which the sink sees at once.
type stagedDialer struct {
	mu      sync.Mutex
	down    bool
	conns   []net.Conn
	hanging chan chan error // a hanging connect, waiting for its result
	over    chan struct{}   // the test is over: hanging connects fail
}

func newStagedDialer() *stagedDialer {
	return &stagedDialer{hanging: make(chan chan error, 1), over: make(chan struct{})}
}

// end fails any connect still hanging, so Shutdown can finish.
func (d *stagedDialer) end() { close(d.over) }

func (d *stagedDialer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	d.mu.Lock()
	down := d.down
	d.mu.Unlock()
	if down {
		result := make(chan error, 1)
		d.hanging <- result
		select {
		case err := <-result:
			return nil, err
		case <-d.over:
			return nil, errors.New("test over")
		}
	}
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

// goDown cuts every connection and makes the next connects hang.
func (d *stagedDialer) goDown() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = true
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

// comeBack fails the hanging connect with err; later connects are real.
func (d *stagedDialer) comeBack(result chan error, err error) {
	d.mu.Lock()
	d.down = false
	d.mu.Unlock()
	result <- err
}

func TestAgentSinkTCPReconnect(t *testing.T) {
	a := startTCPAgent(t, "127.0.0.1:0")
	defer a.stop()
	addr := a.ln.Addr().String()
	errs := &errorsOf{}
	d := newStagedDialer()
	r := New(Options{ServiceName: "orders", FlushInterval: -1, AgentEndpoint: "tcp://" + addr, ErrorHandler: errs.handle, dial: d.dial})
	defer r.Shutdown(context.Background())
	defer d.end() // before Shutdown, should the test stop with a connect hanging

	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	require.Eventually(t, func() bool { return len(a.got()) == 1 }, 30*time.Second, 5*time.Millisecond)
	d0, err := emfvalidate.Parse([]byte(a.got()[0]))
	require.NoError(t, err)
	assert.Equal(t, "orders-metrics", d0.LogGroupName)

	// The agent goes away: the connection breaks and the next connect
	// hangs. Observe and Flush must not wait for it, and keep the data.
	d.goDown()
	r.Operation("b0").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	var hanging chan error
	select {
	case hanging = <-d.hanging: // the sink is stuck connecting
	case <-time.After(30 * time.Second):
		t.Fatal("the sink never tried to reconnect")
	}
	flushed := make(chan error, 1)
	go func() {
		var err error
		for i := 1; i < 3; i++ {
			r.Operation(fmt.Sprint("b", i)).Observe(context.Background(), time.Millisecond, 0)
			err = errors.Join(err, r.Flush(context.Background()))
		}
		flushed <- err
	}()
	select {
	case err := <-flushed:
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // the connect hangs until the test ends it
		t.Fatal("Flush waits for the agent")
	}

	// The connect fails (reported); the agent comes back: the queued lines arrive.
	d.comeBack(hanging, syscall.ECONNREFUSED)
	require.Eventually(t, func() bool { return len(a.got()) == 4 }, 30*time.Second, 5*time.Millisecond,
		"got %d lines; errors: %s", len(a.got()), errs)
	assert.Contains(t, errs.String(), "connecting to CloudWatch agent", "the failed connect is reported")
	for _, l := range a.got() {
		require.NoError(t, emfvalidate.Validate([]byte(l)))
	}
}

func TestAgentSinkUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	read := func(pc net.PacketConn, n int) []string {
		var out []string
		buf := make([]byte, 65536)
		for len(out) < n {
			_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
			k, _, err := pc.ReadFrom(buf)
			if err != nil {
				break
			}
			out = append(out, string(buf[:k]))
		}
		return out
	}
	r := New(Options{ServiceName: "orders", FlushInterval: -1, AgentEndpoint: "udp://" + addr, LogGroupName: "g", LogStreamName: "s"})
	defer r.Shutdown(context.Background())
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	got := read(pc, 1)
	require.Len(t, got, 1)
	require.True(t, strings.HasSuffix(got[0], "\n"))
	d, err := emfvalidate.Parse([]byte(got[0]))
	require.NoError(t, err)
	assert.Equal(t, "g", d.LogGroupName)
	assert.Equal(t, "s", d.LogStreamName)

	// The listener goes away; datagrams sent meanwhile may be lost, but the
	// sink keeps working when it comes back.
	pc.Close()
	r.Operation("b").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Flush(context.Background()))
	sink := r.sink.(*agentSink)
	require.Eventually(t, func() bool { return sink.queued() == 0 }, 30*time.Second, time.Millisecond,
		"the line sent while nothing listened was handled (sent or dropped), not kept")
	pc2, err := net.ListenPacket("udp", addr)
	require.NoError(t, err)
	defer pc2.Close()
	deadline := time.Now().Add(10 * time.Second)
	var after []string
	for time.Now().Before(deadline) && len(after) == 0 {
		r.Operation("c").Observe(context.Background(), time.Millisecond, 0)
		require.NoError(t, r.Flush(context.Background()))
		_ = pc2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 65536)
		if k, _, err := pc2.ReadFrom(buf); err == nil {
			after = append(after, string(buf[:k]))
		}
	}
	require.NotEmpty(t, after)
	require.NoError(t, emfvalidate.Validate([]byte(after[0])))
}

// A bad endpoint falls back to the writer and is reported.
func TestAgentEndpointInvalidFallsBack(t *testing.T) {
	var w lineBuffer
	errs := &errorsOf{}
	r := New(Options{FlushInterval: -1, AgentEndpoint: "http://nope", Writer: &w, ErrorHandler: errs.handle})
	r.Operation("a").Observe(context.Background(), time.Millisecond, 0)
	require.NoError(t, r.Shutdown(context.Background()))
	assert.Len(t, w.lines(), 1)
	assert.Equal(t, 1, errs.count())
}

// The queue is bounded: a dead agent never makes memory grow without limit.
func TestAgentQueueBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens
	s, err := newAgentSink("tcp://"+addr, nil)
	require.NoError(t, err)
	line := []byte(strings.Repeat("x", 10000) + "\n")
	for i := 0; i < 1000; i++ {
		require.NoError(t, s.writeLine(line))
	}
	s.mu.Lock()
	assert.LessOrEqual(t, s.bytes, agentQueueBytes)
	assert.Positive(t, s.dropped)
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.Error(t, s.close(ctx), "undelivered lines are reported on close")
	assert.ErrorIs(t, s.writeLine(line), errClosed)
}

// queued returns the number of lines the sink holds (tests only).
func (s *agentSink) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}
