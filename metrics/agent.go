package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/o11y-go/o11y/internal/emfspec"
	"github.com/o11y-go/o11y/internal/report"
)

// Agent sink tuning.
const (
	agentQueueBytes = 4 << 20 // lines waiting for the agent
	agentMinBackoff = 50 * time.Millisecond
	agentMaxBackoff = 5 * time.Second
	agentDialTime   = 2 * time.Second
	agentWriteTime  = 2 * time.Second
	maxUDPLine      = 65000
)

// agentSink ships lines to the CloudWatch agent from one goroutine. Callers
// only append to a bounded queue (dropping the oldest lines, counted and
// reported, when it is full), so they never block on the network. The
// goroutine (re)connects with exponential backoff; a line whose TCP write
// failed is kept and sent again after reconnecting.
type agentSink struct {
	network, addr string
	rep           *report.Reporter
	dial          dialFunc

	mu      sync.Mutex
	queue   [][]byte
	bytes   int
	dropped uint64
	closed  bool
	wake    chan struct{}

	stop chan struct{}
	done chan struct{}
}

// dialFunc connects to the agent: net.DialTimeout, or a test's stand-in
// (a connect that hangs, or fails on cue).
type dialFunc func(network, addr string, timeout time.Duration) (net.Conn, error)

func newAgentSink(endpoint string, rep *report.Reporter) (*agentSink, error) {
	return newAgentSinkDial(endpoint, rep, nil)
}

func newAgentSinkDial(endpoint string, rep *report.Reporter, dial dialFunc) (*agentSink, error) {
	network, addr, err := emfspec.ParseAgentEndpoint(endpoint)
	if err != nil {
		return nil, err
	}
	if dial == nil {
		dial = net.DialTimeout
	}
	s := &agentSink{network: network, addr: addr, rep: rep, dial: dial,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go s.run()
	return s, nil
}

func (s *agentSink) writeLine(line []byte) error {
	if s.network == "udp" && len(line) > maxUDPLine {
		s.rep.Report("metrics.agent.too_large", errors.New("metrics: EMF line too large for one UDP datagram; dropped"))
		return nil
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	s.queue = append(s.queue, append([]byte(nil), line...))
	s.bytes += len(line)
	for s.bytes > agentQueueBytes && len(s.queue) > 1 {
		s.bytes -= len(s.queue[0])
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.dropped++
		s.rep.Report("metrics.agent.dropped", fmt.Errorf("metrics: CloudWatch agent queue full; %d EMF lines dropped so far", s.dropped))
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *agentSink) flush(context.Context) error { return nil }

// close stops accepting lines and waits (until ctx is done) for the queue
// to drain.
func (s *agentSink) close(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		close(s.stop)
		<-s.done
		s.mu.Lock()
		n := len(s.queue)
		s.mu.Unlock()
		if n > 0 {
			return fmt.Errorf("metrics: %d EMF lines not delivered to the agent: %w", n, ctx.Err())
		}
		return nil
	}
}

func (s *agentSink) run() {
	defer close(s.done)
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	backoff := agentMinBackoff
	var lastWrite time.Time
	sleep := func() bool {
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(backoff*2, agentMaxBackoff)
		select {
		case <-s.stop:
			return false
		case <-t.C:
			return true
		}
	}
	for {
		s.mu.Lock()
		if len(s.queue) == 0 {
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return
			}
			select {
			case <-s.stop:
				return
			case <-s.wake:
			}
			continue
		}
		line := s.queue[0]
		s.mu.Unlock()

		// After an idle spell, check whether the agent went away before
		// writing (the first write into a closed connection "succeeds").
		if conn != nil && s.network == "tcp" && time.Since(lastWrite) > 100*time.Millisecond && peerClosed(conn) {
			conn.Close()
			conn = nil
		}
		if conn == nil {
			c, err := s.dial(s.network, s.addr, agentDialTime)
			if err != nil {
				s.rep.Report("metrics.agent.connect", fmt.Errorf("metrics: connecting to CloudWatch agent %s://%s: %w", s.network, s.addr, err))
				if !sleep() {
					return
				}
				continue
			}
			conn = c
		}
		_ = conn.SetWriteDeadline(time.Now().Add(agentWriteTime))
		_, err := conn.Write(line)
		if err != nil {
			s.rep.Report("metrics.agent.write", fmt.Errorf("metrics: writing to CloudWatch agent %s://%s: %w", s.network, s.addr, err))
			conn.Close()
			conn = nil
			if s.network == "udp" {
				s.pop(line) // a datagram is not retried: the agent may never come back
			}
			if !sleep() {
				return
			}
			continue
		}
		backoff = agentMinBackoff
		lastWrite = time.Now()
		s.pop(line)
	}
}

func (s *agentSink) pop(line []byte) {
	s.mu.Lock()
	if len(s.queue) > 0 && &s.queue[0][0] == &line[0] {
		s.bytes -= len(line)
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	s.mu.Unlock()
}

// peerClosed reports whether the agent closed the TCP connection. The agent
// never sends anything, so a read that does not time out means EOF or an
// error. Checking before each write avoids losing the first line written
// into a connection the peer already closed.
func peerClosed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := c.Read(b[:])
	_ = c.SetReadDeadline(time.Time{})
	if err == nil {
		return false // unexpected data; keep the connection
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	return err == io.EOF || err != nil
}
