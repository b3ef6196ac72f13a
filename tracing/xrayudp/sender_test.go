package xrayudp

import (
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/net/ipv4"
)

// busyConn is a connected socket whose send buffer is full for the first
// busy writes: each fails with the write deadline passing.
type busyConn struct {
	net.Conn
	busy, writes int
}

func (c *busyConn) Write(b []byte) (int, error) {
	c.writes++
	if c.writes <= c.busy {
		return 0, os.ErrDeadlineExceeded
	}
	return len(b), nil
}

func (c *busyConn) SetWriteDeadline(time.Time) error { return nil }
func (c *busyConn) Close() error                     { return nil }

// TestWriteBatchRetriesTimeout: a write whose deadline passes with nothing
// sent tries again while wait allows, and fails the datagram otherwise.
func TestWriteBatchRetriesTimeout(t *testing.T) {
	msgs := func(n int) []ipv4.Message {
		m := make([]ipv4.Message, n)
		for i := range m {
			m[i].Buffers = [][]byte{[]byte("datagram")}
		}
		return m
	}
	for _, tc := range []struct {
		name        string
		busy, waits int // writes that time out; how many retries wait allows
		sent, fails int
	}{
		{"no timeout", 0, 0, 3, 0},
		{"retried", 2, 5, 3, 0},
		// The datagram fails and the socket is dropped (re-dialled after
		// redialEvery, so the rest fail too in this test).
		{"patience runs out", 3, 1, 0, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &busyConn{busy: tc.busy}
			s := sender{addr: "127.0.0.1:2000", timeout: time.Second, conn: c, lastDial: time.Now()}
			asked := 0
			wait := func() bool { asked++; return asked <= tc.waits }
			fails := 0
			sent := s.writeBatch(msgs(3), func(error) { fails++ }, wait)
			assert.Equal(t, tc.sent, sent)
			assert.Equal(t, tc.fails, fails)
		})
	}
	// Without a wait function a timeout fails the datagram at once.
	c := &busyConn{busy: 1}
	s := sender{addr: "127.0.0.1:2000", timeout: time.Second, conn: c, lastDial: time.Now()}
	fails := 0
	assert.Equal(t, 0, s.writeBatch(msgs(3), func(error) { fails++ }, nil))
	assert.Equal(t, 3, fails)
	assert.Equal(t, 1, c.writes, "failed at once")
}
