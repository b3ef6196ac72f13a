package udpsink

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The real daemon is a process of its own, scheduled by the kernel apart
// from the application. A stand-in inside a test process competes with the
// test's own goroutines for the Go scheduler, which starves its reader far
// more than a sidecar ever is; load tests therefore run it as a child
// process: the test binary started again with ChildEnv set.

// ChildEnv, set in a test binary's environment, makes [RunChildIfAsked]
// serve a stand-in instead of returning.
const ChildEnv = "O11Y_UDPSINK_CHILD"

// keepEnv names the file a child appends every datagram to (4-byte
// big-endian length, then the bytes); unset, it only counts.
const keepEnv = "O11Y_UDPSINK_KEEP"

// RunChildIfAsked serves a stand-in and exits when the process was started
// by [StartChild]; otherwise it returns at once. Call it first in TestMain.
//
// The child prints "ADDR host:port", answers each "count" or "count N"
// line on stdin with "COUNT received handled kernel-drops spilled bytes"
// once N datagrams are accounted for (handled, spilled or dropped by the
// kernel) and everything its socket holds has been handled, and exits when
// stdin closes.
func RunChildIfAsked() {
	if os.Getenv(ChildEnv) == "" {
		return
	}
	var (
		mu   sync.Mutex
		keep *bufio.Writer
	)
	if path := os.Getenv(keepEnv); path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			fmt.Fprintln(os.Stderr, "udpsink child:", err)
			os.Exit(1)
		}
		defer f.Close()
		keep = bufio.NewWriterSize(f, 1<<20)
	}
	var hdr [4]byte
	handle := func(dg []byte) {
		if keep == nil {
			return
		}
		mu.Lock()
		binary.BigEndian.PutUint32(hdr[:], uint32(len(dg)))
		_, _ = keep.Write(hdr[:])
		_, _ = keep.Write(dg)
		mu.Unlock()
	}
	s, err := Listen(Options{Handle: handle})
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpsink child:", err)
		os.Exit(1)
	}
	fmt.Printf("ADDR %s\n", s.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		if cmd != "count" {
			continue
		}
		if want, err := strconv.ParseInt(arg, 10, 64); err == nil {
			s.WaitUntil(30*time.Second, func() bool {
				k, _ := s.KernelDrops()
				return s.handled.Load()+s.spilled.Load()+int64(k) >= want
			})
		}
		s.Settle(30 * time.Second)
		if keep != nil {
			mu.Lock()
			_ = keep.Flush()
			mu.Unlock()
		}
		k, _ := s.KernelDrops()
		fmt.Printf("COUNT %d %d %d %d %d\n", s.Received(), s.Handled(), k, s.Spilled(), s.Bytes())
	}
	_ = s.Close()
	if keep != nil {
		_ = keep.Flush()
	}
	os.Exit(0)
}

// Counts are a stand-in's counters.
type Counts struct {
	Received, Handled, KernelDrops, Spilled, Bytes int64
}

// Lost is what reached the stand-in's socket and not its handler.
func (c Counts) Lost() int64 { return c.KernelDrops + c.Spilled }

// Child is a stand-in running in a child process.
type Child struct {
	Addr string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Scanner
	keep  string
	done  bool
}

// StartChild starts the test binary again as a stand-in and returns once it
// listens. With keep, every datagram is kept for [Child.Datagrams]. The
// test binary's TestMain must call [RunChildIfAsked] first.
func StartChild(tb testing.TB, keep bool) *Child {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	c := &Child{cmd: cmd}
	if keep {
		c.keep = tb.TempDir() + "/datagrams"
		cmd.Env = append(cmd.Env, keepEnv+"="+c.keep)
	}
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c.out = bufio.NewScanner(stdout)
	kill := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
	for c.out.Scan() {
		if a, ok := strings.CutPrefix(c.out.Text(), "ADDR "); ok {
			c.Addr = a
			break
		}
	}
	kill.Stop()
	if c.Addr == "" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatal("udpsink: the stand-in child did not start")
	}
	tb.Cleanup(c.Stop)
	return c
}

// Counts returns the child's counters once it has handled everything its
// socket held when asked (call it after the sender has finished).
func (c *Child) Counts() (Counts, error) { return c.counts("count\n") }

// CountsAfter is Counts once sent datagrams are accounted for (handled,
// spilled or dropped by the kernel): exact when the sender's count is known.
func (c *Child) CountsAfter(sent int64) (Counts, error) {
	return c.counts("count " + strconv.FormatInt(sent, 10) + "\n")
}

func (c *Child) counts(cmd string) (Counts, error) {
	if c.done {
		return Counts{}, fmt.Errorf("udpsink: the stand-in child has stopped")
	}
	if _, err := io.WriteString(c.stdin, cmd); err != nil {
		return Counts{}, err
	}
	for c.out.Scan() {
		if v, ok := strings.CutPrefix(c.out.Text(), "COUNT "); ok {
			var n Counts
			_, err := fmt.Sscan(v, &n.Received, &n.Handled, &n.KernelDrops, &n.Spilled, &n.Bytes)
			return n, err
		}
	}
	return Counts{}, fmt.Errorf("udpsink: the stand-in child did not answer: %v", c.out.Err())
}

// Datagrams returns what a keeping child has received so far; call it
// after [Child.Counts], which flushes them.
func (c *Child) Datagrams() ([][]byte, error) {
	if c.keep == "" {
		return nil, fmt.Errorf("udpsink: the stand-in child keeps no datagrams")
	}
	b, err := os.ReadFile(c.keep)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(b) >= 4 {
		n := int(binary.BigEndian.Uint32(b))
		if len(b) < 4+n {
			break
		}
		out = append(out, b[4:4+n])
		b = b[4+n:]
	}
	return out, nil
}

// Stop ends the child. It is idempotent.
func (c *Child) Stop() {
	if c.done {
		return
	}
	c.done = true
	_ = c.stdin.Close()
	t := time.AfterFunc(10*time.Second, func() { _ = c.cmd.Process.Kill() })
	_ = c.cmd.Wait()
	t.Stop()
}
