package xrayudp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/o11y-go/o11y/tracing/xraysegment"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

func ExampleParseDaemonAddress() {
	for _, s := range []string{"", "xray-daemon:2000", "tcp:127.0.0.1:2000 udp:127.0.0.2:2001", "[::1]:2000", "udp:127.0.0.1:2000"} {
		udp, tcp, err := xrayudp.ParseDaemonAddress(s)
		fmt.Printf("%q -> udp=%s tcp=%s err=%v\n", s, udp, tcp, err != nil)
	}
	// Output:
	// "" -> udp=127.0.0.1:2000 tcp=127.0.0.1:2000 err=false
	// "xray-daemon:2000" -> udp=xray-daemon:2000 tcp=xray-daemon:2000 err=false
	// "tcp:127.0.0.1:2000 udp:127.0.0.2:2001" -> udp=127.0.0.2:2001 tcp=127.0.0.1:2000 err=false
	// "[::1]:2000" -> udp=[::1]:2000 tcp=[::1]:2000 err=false
	// "udp:127.0.0.1:2000" -> udp= tcp= err=true
}

func ExampleNewSpanProcessor() {
	p, err := xrayudp.NewSpanProcessor(xrayudp.Options{
		DaemonAddress: "127.0.0.1:2000", // AWS_XRAY_DAEMON_ADDRESS
		Segments:      xraysegment.Config{IndexedAttributes: []string{"tenant.id"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Shutdown drains the queue within its budget (the SDK's share of the stop timeout).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	defer p.Shutdown(ctx)
	// tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
	fmt.Printf("%+v\n", p.Stats())
	// Output:
	// {Sent:0 Dropped:0 Errors:0 Trimmed:0 DaemonDrops:0}
}
