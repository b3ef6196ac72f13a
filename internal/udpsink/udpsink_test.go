package udpsink

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func TestSinkHandsOffEveryDatagram(t *testing.T) {
	var mu sync.Mutex
	var got []string
	s, err := Listen(Options{Handle: func(b []byte) { mu.Lock(); got = append(got, string(b)); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 20
	for i := range n {
		if _, err := fmt.Fprintf(c, "d%d", i); err != nil {
			t.Fatal(err)
		}
	}
	if !s.WaitHandled(n, 10*time.Second) {
		t.Fatalf("handled %d of %d (lost %d)", s.Handled(), n, s.Lost())
	}
	mu.Lock()
	defer mu.Unlock()
	for i, g := range got {
		if want := fmt.Sprintf("d%d", i); g != want {
			t.Fatalf("datagram %d = %q, want %q (arrival order)", i, g, want)
		}
	}
	if s.Received() != n || s.Spilled() != 0 {
		t.Fatalf("received %d spilled %d", s.Received(), s.Spilled())
	}
}

// TestSinkKernelDefaultBuffer: the stand-in keeps the kernel's default
// receive buffer, and a reader that cannot keep up shows as counted kernel
// drops.
func TestSinkKernelDefaultBuffer(t *testing.T) {
	release := make(chan struct{})
	s, err := Listen(Options{Queue: 1, Handle: func([]byte) { <-release }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok := s.KernelDrops(); !ok {
		close(release)
		t.Skip("the socket's drop count is not readable here (SO_MEMINFO)")
	}
	ref, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	refSink := &Sink{conn: ref}
	want, _ := refSink.meminfo()
	_ = ref.Close()
	if got := s.ReceiveBuffer(); got != int(want.rcvbuf) || got == 0 {
		t.Fatalf("receive buffer %d, kernel default %d", got, want.rcvbuf)
	}
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The handler is stuck, so the queue and then the socket fill: far more
	// bytes than any default buffer holds must show up as drops or spills.
	payload := make([]byte, 1000)
	const n = 20000
	for range n {
		_, _ = c.Write(payload)
	}
	close(release)
	if !s.Settle(30 * time.Second) {
		t.Fatal("did not settle")
	}
	k, _ := s.KernelDrops()
	if k == 0 {
		t.Fatalf("no kernel drops after %d datagrams to a stuck reader", n)
	}
	if got := s.Received() + int64(k); got != n {
		t.Fatalf("received %d + kernel drops %d = %d, sent %d", s.Received(), k, got, n)
	}
	if s.Handled()+s.Spilled() != s.Received() {
		t.Fatalf("handled %d + spilled %d != received %d", s.Handled(), s.Spilled(), s.Received())
	}
}

func TestMain(m *testing.M) {
	RunChildIfAsked()
	os.Exit(m.Run())
}

func TestChild(t *testing.T) {
	c := StartChild(t, true)
	conn, err := net.Dial("udp", c.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 50
	for i := range n {
		if _, err := fmt.Fprintf(conn, "d%d", i); err != nil {
			t.Fatal(err)
		}
	}
	var got Counts
	// Datagrams written are in the child's socket (or handled) by now: one
	// count settles them.
	got, err = c.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if got.Received != n || got.Handled != n || got.Lost() != 0 || got.Bytes == 0 {
		t.Fatalf("counts %+v, want %d received and handled", got, n)
	}
	dgs, err := c.Datagrams()
	if err != nil {
		t.Fatal(err)
	}
	if len(dgs) != n || string(dgs[0]) != "d0" || string(dgs[n-1]) != fmt.Sprintf("d%d", n-1) {
		t.Fatalf("%d datagrams kept: first %q", len(dgs), dgs[0])
	}
	c.Stop()
	if _, err := c.Counts(); err == nil {
		t.Fatal("counts after Stop")
	}
}
