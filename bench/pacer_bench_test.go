package bench

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// BenchmarkPacerCost isolates what pacing the daemon sender costs a request:
// the same o11y service and the same daemon stand-in ("daemon-fast", which
// keeps up, so neither side waits for the receiver), with the sender paced
// (the default) and unpaced (SendRate -1, the sender before pacing). Both
// processors are added through Config.Traces.SpanProcessors so that only
// SendRate differs.
func BenchmarkPacerCost(b *testing.B) {
	for _, c := range []struct {
		name string
		rate int
	}{{"paced", 0}, {"unpaced", -1}} {
		b.Run(c.name, func(b *testing.B) {
			d := startStandin(b, "daemon-fast")
			p, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: d.Addr, QueueSize: queueSize, SendRate: c.rate})
			if err != nil {
				b.Fatal(err)
			}
			sdk := o11ySDK(b, o11y.TracesConfig{Exporter: "none", SpanProcessors: []sdktrace.SpanProcessor{p}})
			e := &export{
				flush:   func() { _ = sdk.ForceFlush(context.Background()) },
				sink:    d,
				dropped: func() uint64 { return p.Stats().Dropped },
			}
			benchOrders(b, httpmw.New(sdk)(ordersMux()), e)
		})
	}
}
