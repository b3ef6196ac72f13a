// Package console is the local console behind `o11y console`: receivers for
// what a deployment sends to AWS (X-Ray daemon datagrams, the daemon's
// sampling proxy, OTLP/gRPC, OTLP/HTTP, EMF on the CloudWatch agent port,
// stdout JSON lines), a bounded in-memory store, and a web UI with the
// service map, traces with their logs, and EMF metrics.
//
// The console has no authentication: it binds to loopback unless told
// otherwise, and everything it receives is shown to whoever can reach its
// HTTP port.
package console

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// Default addresses: the X-Ray daemon, the OTLP ports, the CloudWatch
// agent's EMF port, and the UI.
const (
	DefaultXRayAddr     = "127.0.0.1:2000"
	DefaultOTLPGRPCAddr = "127.0.0.1:4317"
	DefaultOTLPHTTPAddr = "127.0.0.1:4318"
	DefaultEMFAddr      = "127.0.0.1:25888"
	DefaultHTTPAddr     = "127.0.0.1:8900"
)

// Options configure a Console. An empty address turns that receiver off
// (the command line uses "-").
type Options struct {
	XRayAddr     string // UDP segments and TCP sampling proxy on the same port
	OTLPGRPCAddr string
	OTLPHTTPAddr string
	EMFAddr      string // TCP and UDP
	HTTPAddr     string // UI and API

	MaxTraces int // default DefaultMaxTraces
	// IndexedAttributes are OTLP span attribute keys written as X-Ray
	// annotations when OTLP spans are translated (as the collector's awsxray
	// exporter option indexed_attributes). Spans can also list keys in the
	// string-slice attribute aws.xray.annotations.
	IndexedAttributes []string
	SamplingRules     []byte // local sampling rules JSON; nil: X-Ray's default rule

	// Tap, when set, is called with every X-Ray datagram the UDP receiver
	// reads (after it was stored), on the parser goroutines. The demo uses
	// it to feed its own trace printer.
	Tap func(datagram []byte)

	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
}

// Console is a running local console.
type Console struct {
	opts  Options
	stats *Stats
	store *Store
	enc   *xraysegment.Encoder
	samp  *samplingProxy

	mu        sync.Mutex
	closers   []func() error
	addrs     map[string]string
	wg        sync.WaitGroup
	closed    atomic.Bool
	overloads atomic.Uint64
	xrayConn  *net.UDPConn // for tests and benchmarks
}

// New returns a Console that stores what it is given (Ingest* methods)
// but listens nowhere; Start opens the listeners.
func New(opts Options) (*Console, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Console{opts: opts, stats: &Stats{}, enc: xraysegment.NewEncoder(xraysegment.Config{IndexedAttributes: opts.IndexedAttributes}), addrs: map[string]string{}}
	c.store = newStore(opts.MaxTraces, c.stats, opts.Now)
	rules := defaultSamplingRules()
	if opts.SamplingRules != nil {
		r, err := parseSamplingRules(opts.SamplingRules)
		if err != nil {
			return nil, err
		}
		rules = r
	}
	c.samp = &samplingProxy{rules: rules, modified: opts.Now(), now: opts.Now, stats: c.stats}
	return c, nil
}

// Start creates a Console and opens every configured listener. On error
// the listeners already open are closed.
func Start(opts Options) (*Console, error) {
	c, err := New(opts)
	if err != nil {
		return nil, err
	}
	steps := []struct {
		addr string
		fn   func(string) error
	}{
		{opts.XRayAddr, c.listenXRay},
		{opts.OTLPGRPCAddr, c.listenOTLPGRPC},
		{opts.OTLPHTTPAddr, c.listenOTLPHTTP},
		{opts.EMFAddr, c.listenEMF},
		{opts.HTTPAddr, c.listenUI},
	}
	for _, s := range steps {
		if s.addr == "" {
			continue
		}
		if err := s.fn(s.addr); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, nil
}

// Addr returns the bound address of a receiver: "xray", "otlp-grpc",
// "otlp-http", "emf" or "http"; "" when it is off.
func (c *Console) Addr(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[name]
}

// URL is the UI's address.
func (c *Console) URL() string {
	if a := c.Addr("http"); a != "" {
		return "http://" + a
	}
	return ""
}

// Env returns the variables that point an SDK at this console:
// AWS_XRAY_DAEMON_ADDRESS, AWS_EMF_AGENT_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT
// and OTEL_EXPORTER_OTLP_PROTOCOL, for the receivers that are on.
func (c *Console) Env() []string {
	var env []string
	if a := c.Addr("xray"); a != "" {
		env = append(env, "AWS_XRAY_DAEMON_ADDRESS="+a)
	}
	if a := c.Addr("emf"); a != "" {
		env = append(env, "AWS_EMF_AGENT_ENDPOINT=tcp://"+a)
	}
	if a := c.Addr("otlp-grpc"); a != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+a, "OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
	} else if a := c.Addr("otlp-http"); a != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT=http://"+a, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	}
	return env
}

// Stats returns a snapshot of the counters.
func (c *Console) Stats() map[string]uint64 {
	m := c.stats.snapshot()
	m["overload_dropped"] = c.overloads.Load()
	m["traces"] = uint64(c.store.Len())
	return m
}

// Store returns the console's store.
func (c *Console) Store() *Store { return c.store }

func (c *Console) setAddr(name, addr string, closer func() error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addrs[name] = addr
	c.closers = append(c.closers, closer)
}

// Close stops every listener and waits for the reader goroutines.
func (c *Console) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	c.mu.Lock()
	closers := c.closers
	c.closers = nil
	c.mu.Unlock()
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	c.wg.Wait()
	return errors.Join(errs...)
}

// ---- listeners

// listenPair binds UDP and TCP on the same port. With port 0 it retries a
// few times until both get the same free port.
func listenPair(addr string) (*net.UDPConn, net.Listener, error) {
	var lastErr error
	for try := 0; try < 20; try++ {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return nil, nil, err
		}
		uc, err := net.ListenUDP("udp", ua)
		if err != nil {
			return nil, nil, err
		}
		port := uc.LocalAddr().(*net.UDPAddr).Port
		host, _, _ := net.SplitHostPort(addr)
		tl, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err == nil {
			return uc, tl, nil
		}
		uc.Close()
		lastErr = err
		if ua.Port != 0 {
			break
		}
	}
	return nil, nil, lastErr
}

// udpReadBuffer is the receive buffer the console asks for on its UDP
// sockets.
const udpReadBuffer = 32 << 20

// Bounds of the queue between a UDP reader and its parsers: bursts faster
// than the parsers wait here (at 1 KiB per segment, seconds of a busy
// service) instead of being lost.
const (
	datagramQueue      = 65536
	datagramQueueBytes = 64 << 20
)

func (c *Console) listenXRay(addr string) error {
	uc, tl, err := listenPair(addr)
	if err != nil {
		return fmt.Errorf("console: X-Ray daemon address %s: %w", addr, err)
	}
	// Unlike a stand-in for the real daemon (which keeps the kernel default),
	// the console is a development tool that must not lose the bursts a busy
	// local service sends: it asks for a large receive buffer (SetReadBuffer
	// in enlargeReadBuffer; the kernel caps it at net.core.rmem_max unless
	// the process may force more).
	enlargeReadBuffer(uc, udpReadBuffer)
	c.xrayConn = uc
	srv := &http.Server{Handler: c.samp, ReadHeaderTimeout: 5 * time.Second}
	c.setAddr("xray", uc.LocalAddr().String(), func() error {
		err := uc.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return errors.Join(err, srv.Shutdown(ctx))
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = srv.Serve(tl)
	}()
	c.readUDP(uc, func(b []byte) {
		_ = c.IngestDatagram(b)
		if c.opts.Tap != nil {
			c.opts.Tap(b)
		}
	})
	return nil
}

// readUDP runs one reader goroutine on uc (as the X-Ray daemon does) that
// copies each datagram and hands it to parser goroutines; when the parsers
// fall behind by datagramQueue datagrams or datagramQueueBytes bytes,
// datagrams are dropped and counted.
func (c *Console) readUDP(uc *net.UDPConn, handle func([]byte)) {
	q := make(chan []byte, datagramQueue)
	var queued atomic.Int64
	workers := runtime.GOMAXPROCS(0)
	var pw sync.WaitGroup
	for i := 0; i < workers; i++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for b := range q {
				queued.Add(-int64(len(b)))
				handle(b)
			}
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer func() { close(q); pw.Wait() }()
		buf := make([]byte, 65536)
		for {
			n, _, err := uc.ReadFromUDP(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			if queued.Load()+int64(n) > datagramQueueBytes {
				c.overloads.Add(1)
				continue
			}
			b := append([]byte(nil), buf[:n]...)
			select {
			case q <- b:
				queued.Add(int64(n))
			default:
				c.overloads.Add(1)
			}
		}
	}()
}

func (c *Console) listenOTLPGRPC(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("console: OTLP/gRPC address %s: %w", addr, err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(maxOTLPBody))
	collectortrace.RegisterTraceServiceServer(gs, otlpGRPC{c: c})
	c.setAddr("otlp-grpc", ln.Addr().String(), func() error {
		done := make(chan struct{})
		go func() { gs.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			gs.Stop()
		}
		return nil
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = gs.Serve(ln)
	}()
	return nil
}

func (c *Console) serveHTTP(name, addr string, h http.Handler) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("console: %s address %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	c.setAddr(name, ln.Addr().String(), func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		_ = srv.Serve(ln)
	}()
	return nil
}

func (c *Console) listenOTLPHTTP(addr string) error {
	return c.serveHTTP("otlp-http", addr, http.HandlerFunc(c.serveOTLPHTTP))
}

func (c *Console) listenUI(addr string) error {
	return c.serveHTTP("http", addr, c.Handler())
}

// maxEMFConns bounds concurrent EMF TCP connections.
const maxEMFConns = 64

func (c *Console) listenEMF(addr string) error {
	uc, tl, err := listenPair(addr)
	if err != nil {
		return fmt.Errorf("console: EMF address %s: %w", addr, err)
	}
	// As for segments: a development console asks for a large buffer
	// (SetReadBuffer in enlargeReadBuffer) so bursts of EMF datagrams are
	// not lost.
	enlargeReadBuffer(uc, udpReadBuffer)
	var connMu sync.Mutex
	conns := map[net.Conn]struct{}{}
	c.setAddr("emf", uc.LocalAddr().String(), func() error {
		err := errors.Join(uc.Close(), tl.Close())
		connMu.Lock()
		for cn := range conns {
			cn.Close()
		}
		connMu.Unlock()
		return err
	})
	c.readUDP(uc, func(b []byte) { c.emfLines(b) })
	sem := make(chan struct{}, maxEMFConns)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			cn, err := tl.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond)
				continue
			}
			select {
			case sem <- struct{}{}:
			default:
				cn.Close()
				continue
			}
			connMu.Lock()
			conns[cn] = struct{}{}
			connMu.Unlock()
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer func() { <-sem }()
				_ = c.readEMFStream(cn)
				connMu.Lock()
				delete(conns, cn)
				connMu.Unlock()
				cn.Close()
			}()
		}
	}()
	return nil
}

// emfLines ingests every line of a datagram as an EMF document.
func (c *Console) emfLines(b []byte) {
	for len(b) > 0 {
		i := indexNL(b)
		line := b[:i]
		if i < len(b) {
			b = b[i+1:]
		} else {
			b = nil
		}
		if len(trimSpace(line)) > 0 {
			_ = c.IngestEMF(line)
		}
	}
}
