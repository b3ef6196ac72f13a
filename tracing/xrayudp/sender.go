package xrayudp

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
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
	batch    *ipv4.PacketConn // conn, for sendmmsg; nil if conn is not a *net.UDPConn
	lastDial time.Time
	dialErr  error
}

const redialEvery = time.Second

var errNotConnected = errors.New("xrayudp: daemon socket not connected")

// connect dials if there is no socket and the last dial is old enough.
// Called with s.mu held.
func (s *sender) connect() error {
	if s.conn != nil {
		return nil
	}
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
	if uc, ok := c.(*net.UDPConn); ok {
		s.batch = ipv4.NewPacketConn(uc)
	}
	return nil
}

// addrs connects if needed and returns the socket's local and remote
// addresses (nil when not connected).
func (s *sender) addrs() (local, remote *net.UDPAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connect() != nil {
		return nil, nil
	}
	local, _ = s.conn.LocalAddr().(*net.UDPAddr)
	remote, _ = s.conn.RemoteAddr().(*net.UDPAddr)
	return local, remote
}

// afterError drops the socket after a write error other than "nobody
// listening": it may be stale (address change, network down), so a later
// write re-dials. Called with s.mu held.
func (s *sender) afterError(err error) {
	if err != nil && !isRefused(err) && s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.batch = nil, nil
	}
}

// writeBatch writes msgs (one datagram each, Buffers of length 1) with as
// few system calls as the platform allows: sendmmsg(2) on Linux, one
// datagram per call elsewhere. All writes of one call share one deadline.
// Every datagram is either sent or handed to failed with its error; it
// returns the number sent. When the deadline passes with nothing written
// (the socket's send buffer is full: on a loaded host the kernel has not
// yet handed the earlier datagrams on) and wait (if not nil) says so, it
// tries again with a new deadline instead of failing the datagram.
func (s *sender) writeBatch(msgs []ipv4.Message, failed func(error), wait func() bool) (sent int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	deadlineSet := false
	for len(msgs) > 0 {
		if err := s.connect(); err != nil {
			for range msgs {
				failed(err)
			}
			return sent
		}
		if !deadlineSet {
			_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
			deadlineSet = true
		}
		var n int
		var err error
		if s.batch != nil {
			n, err = s.batch.WriteBatch(msgs, 0)
		} else {
			_, err = s.conn.Write(msgs[0].Buffers[0])
			if err == nil {
				n = 1
			}
		}
		if n > 0 {
			sent += n
			msgs = msgs[n:]
			continue
		}
		if err == nil { // nothing sent and no reason given: do not spin
			err = errNotConnected
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && wait != nil && wait() {
			deadlineSet = false
			continue
		}
		// The first datagram failed (for ECONNREFUSED: the kernel reported
		// an earlier datagram's ICMP port-unreachable and dropped this one).
		failed(err)
		msgs = msgs[1:]
		if !isRefused(err) {
			s.afterError(err)
			deadlineSet = false
		}
	}
	return sent
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
	s.conn, s.batch = nil, nil
	s.lastDial = time.Now().Add(100 * 365 * 24 * time.Hour) // never re-dial after close
	return err
}
