package xrayudp

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"time"
)

// sender writes datagrams to a connected UDP socket. It dials lazily (so a
// daemon host that does not resolve yet never fails construction), re-dials
// after socket errors at most once per redialEvery, and bounds every write
// with a deadline. Safe for concurrent use.
type sender struct {
	addr    string
	timeout time.Duration

	mu       sync.Mutex
	conn     net.Conn
	lastDial time.Time
	dialErr  error
}

const redialEvery = time.Second

var errNotConnected = errors.New("xrayudp: daemon socket not connected")

func (s *sender) write(b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if !s.lastDial.IsZero() && time.Since(s.lastDial) < redialEvery {
			if s.dialErr != nil {
				return s.dialErr
			}
			return errNotConnected
		}
		s.lastDial = time.Now()
		d := net.Dialer{Timeout: s.timeout}
		c, err := d.Dial("udp", s.addr)
		if err != nil {
			s.dialErr = err
			return err
		}
		s.conn, s.dialErr = c, nil
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	_, err := s.conn.Write(b)
	if err != nil && !isRefused(err) {
		// Anything but "nobody listening" may mean a stale socket (address
		// change, network down): re-dial on a later write.
		_ = s.conn.Close()
		s.conn = nil
	}
	return err
}

// isRefused reports the ICMP port-unreachable a connected UDP socket
// surfaces when no daemon listens. It is expected and never fatal.
func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

func (s *sender) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	s.lastDial = time.Now().Add(100 * 365 * 24 * time.Hour) // never re-dial after close
	return err
}

// bufPool holds datagram buffers; buffers that grew past one datagram (an
// over-size document before trimming) are not kept.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuf {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}
