// Package udpsink is a stand-in for the X-Ray daemon's UDP receiver, built
// to read the way the real daemon does so tests see the losses a user's
// sidecar would:
//
//   - the socket keeps the kernel-default receive buffer
//     (net.core.rmem_default): the daemon never enlarges it;
//   - ONE goroutine reads, one datagram per read system call, and hands each
//     datagram off to a queue (the daemon's ring buffer);
//   - another goroutine takes datagrams off the queue and calls the handler.
//     When the queue is full the oldest datagram is dropped and counted, as
//     the daemon's ring buffer does.
//
// What the kernel drops because the receive buffer was full is read from
// the socket (SO_MEMINFO on Linux), so tests can assert on exact counts
// instead of waiting for the traffic to go quiet.
//
// It is test and example support code, not part of the SDK.
package udpsink

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures [Listen].
type Options struct {
	// Addr is the address to listen on; default "127.0.0.1:0" (a free port).
	Addr string
	// Handle is called on the hand-off goroutine for every datagram, in
	// arrival order. The slice is the handler's to keep. Nil only counts.
	Handle func(datagram []byte)
	// ReadBuffer, when positive, enlarges the socket's receive buffer
	// (SO_RCVBUF). Zero keeps the kernel default, like the daemon. A caller
	// that sets it must say why next to the call: it hides the losses a
	// default-sized buffer shows.
	ReadBuffer int
	// Queue is the hand-off queue's capacity, default 4096.
	Queue int
}

// Sink is a listening stand-in. Its methods are safe for concurrent use.
type Sink struct {
	conn   *net.UDPConn
	handle func([]byte)
	queue  chan []byte

	inRead   atomic.Bool  // the reader is waiting in Read
	received atomic.Int64 // datagrams read from the socket
	handled  atomic.Int64 // datagrams the handler has returned from
	spilled  atomic.Int64 // datagrams dropped because the queue was full
	bytes    atomic.Int64

	waiters atomic.Int32 // goroutines in WaitUntil
	mu      sync.Mutex
	changed chan struct{} // closed and replaced after a handled datagram while someone waits

	readDone   chan struct{}
	handleDone chan struct{}
	closeOnce  sync.Once
}

// Listen starts a stand-in.
func Listen(o Options) (*Sink, error) {
	addr := o.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, err
	}
	if o.ReadBuffer > 0 {
		if err := c.SetReadBuffer(o.ReadBuffer); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	q := o.Queue
	if q <= 0 {
		q = 4096
	}
	s := &Sink{
		conn:       c,
		handle:     o.Handle,
		queue:      make(chan []byte, q),
		changed:    make(chan struct{}),
		readDone:   make(chan struct{}),
		handleDone: make(chan struct{}),
	}
	go s.read()
	go s.handoff()
	return s, nil
}

// Addr is the "host:port" to put in AWS_XRAY_DAEMON_ADDRESS.
func (s *Sink) Addr() string { return s.conn.LocalAddr().String() }

func (s *Sink) read() {
	defer close(s.readDone)
	defer close(s.queue)
	buf := make([]byte, 64<<10)
	for {
		s.inRead.Store(true)
		n, err := s.conn.Read(buf)
		s.inRead.Store(false)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. a datagram larger than buf: the daemon logs and goes on
		}
		s.received.Add(1)
		s.bytes.Add(int64(n))
		dg := make([]byte, n)
		copy(dg, buf[:n])
		for {
			select {
			case s.queue <- dg:
			default:
				select {
				case <-s.queue: // full: drop the oldest, like the daemon's ring buffer
					s.spilled.Add(1)
				default:
				}
				continue
			}
			break
		}
	}
}

func (s *Sink) handoff() {
	defer close(s.handleDone)
	for dg := range s.queue {
		if s.handle != nil {
			s.handle(dg)
		}
		s.handled.Add(1)
		if s.waiters.Load() > 0 {
			s.mu.Lock()
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
		}
	}
}

// Received is the number of datagrams read from the socket.
func (s *Sink) Received() int64 { return s.received.Load() }

// Handled is the number of datagrams the handler has finished with.
func (s *Sink) Handled() int64 { return s.handled.Load() }

// Bytes is the number of payload bytes read from the socket.
func (s *Sink) Bytes() int64 { return s.bytes.Load() }

// Spilled is the number of datagrams dropped because the hand-off queue
// was full (the daemon's "segment buffer is full").
func (s *Sink) Spilled() int64 { return s.spilled.Load() }

// KernelDrops is the number of datagrams the kernel dropped at this socket
// (receive buffer full). ok is false where the platform cannot tell.
func (s *Sink) KernelDrops() (n uint64, ok bool) {
	m, ok := s.meminfo()
	return m.drops, ok
}

// Lost is every datagram that reached the socket and never reached the
// handler: kernel drops plus spills. Where kernel drops cannot be read it
// counts spills only.
func (s *Sink) Lost() int64 {
	k, _ := s.KernelDrops()
	return int64(k) + s.spilled.Load()
}

// WaitHandled blocks until at least n datagrams have been handled, or
// timeout passes, and reports whether n were reached. The timeout is a
// failure bound for tests, never a measurement.
func (s *Sink) WaitHandled(n int64, timeout time.Duration) bool {
	return s.WaitUntil(timeout, func() bool { return s.handled.Load() >= n })
}

// WaitUntil blocks until cond (evaluated after every handled datagram)
// holds, or timeout passes; it reports whether cond held.
func (s *Sink) WaitUntil(timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	// Registered before the first look at cond: a datagram handled after
	// that look then closes the channel this waits on.
	s.waiters.Add(1)
	defer s.waiters.Add(-1)
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-s.handleDone:
			return cond()
		case <-t.C:
			return cond()
		}
	}
}

// Settle waits until everything the socket holds now has been read and
// handled, or timeout passes; it reports whether it got there. Call it
// after the sender has finished: it uses the socket's queued-bytes count
// (Linux), so it needs no quiet period, and it wakes on every handled
// datagram rather than polling. Elsewhere it waits for the hand-off queue
// to empty only. A datagram the reader takes off the socket in the very
// instant of the check can still be missed: where the sender's count is
// known, wait for it first ([Sink.WaitUntil], [Child.CountsAfter]).
func (s *Sink) Settle(timeout time.Duration) bool {
	return s.WaitUntil(timeout, func() bool {
		m, ok := s.meminfo()
		return s.inRead.Load() && (!ok || m.rmemAlloc == 0) && len(s.queue) == 0 && s.handled.Load()+s.spilled.Load() == s.received.Load()
	})
}

// ReceiveBuffer is the socket's receive buffer limit in bytes as the kernel
// accounts it (0 where the platform cannot tell).
func (s *Sink) ReceiveBuffer() int {
	m, _ := s.meminfo()
	return int(m.rcvbuf)
}

// Close stops reading, lets the handler finish what was queued, and waits
// for both goroutines.
func (s *Sink) Close() error {
	var err error
	s.closeOnce.Do(func() { err = s.conn.Close() })
	<-s.readDone
	<-s.handleDone
	return err
}

type meminfo struct {
	rmemAlloc uint32 // bytes (truesize) waiting in the receive queue
	rcvbuf    uint32 // the receive buffer's limit
	drops     uint64
}
