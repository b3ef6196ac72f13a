package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/o11y-go/o11y/internal/console"
)

// demoConsole is the local console (go run ./cmd/o11y console) running in
// the demo's process: the SDKs send their segments to its X-Ray daemon
// receiver and their stdout lines (logs, EMF) to it, and it serves the UI.
type demoConsole struct {
	*console.Console
	tap    net.Conn // forwards each datagram to the demo's trace printer
	cancel context.CancelFunc
	done   chan struct{}
}

// startConsole starts the console with its UI on addr and its X-Ray
// receiver on a free loopback port (so a real daemon on :2000 is not in the
// way). Datagrams are also forwarded to the demo's own segment sink.
func startConsole(addr, sinkAddr string, human io.Writer) (*demoConsole, error) {
	tap, err := net.Dial("udp", sinkAddr)
	if err != nil {
		return nil, err
	}
	dc := &demoConsole{tap: tap}
	c, err := console.Start(console.Options{
		XRayAddr: "127.0.0.1:0",
		HTTPAddr: addr,
		Tap:      func(b []byte) { _, _ = tap.Write(b) },
	})
	if err != nil {
		tap.Close()
		return nil, fmt.Errorf("console on %s: %w (pass -console 127.0.0.1:0 for a free port, or -console - to run without it)", addr, err)
	}
	dc.Console = c
	ctx, cancel := context.WithCancel(context.Background())
	dc.cancel, dc.done = cancel, make(chan struct{})
	go func() {
		defer close(dc.done)
		dc.announce(ctx, human)
	}()
	return dc, nil
}

// Close stops the console.
func (dc *demoConsole) Close() error {
	if dc == nil {
		return nil
	}
	dc.cancel()
	<-dc.done
	err := dc.Console.Close()
	dc.tap.Close()
	return err
}

// announce prints the console URL with a trace to look at once a trace
// that went through all three services has arrived (or ctx ends).
func (dc *demoConsole) announce(ctx context.Context, w io.Writer) {
	if dc == nil {
		return
	}
	f, _ := console.ParseFilter(`service("gateway") AND service("orders") AND service("inventory")`)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if l := dc.Store().Traces(f, 0, 1); len(l.Traces) > 0 {
			fmt.Fprintf(w, "\n  open %s   (trace to look at: %s/#/trace/%s)\n\n", dc.URL(), dc.URL(), l.Traces[0].ID)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
