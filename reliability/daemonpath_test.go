package reliability

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/udpsink"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

var compareUnpaced = flag.Bool("daemonpath.unpaced", false, "also run the daemon-path load unpaced and log its loss (the figures in docs/RELIABILITY.md)")

// TestDaemonPathNoLoss serves 3,000 sampled requests over 32 keep-alive
// connections through the HTTP middleware, sending segments to a stand-in
// that reads like the X-Ray daemon (kernel-default receive buffer, one
// reader goroutine, a process of its own), shuts the SDK down and checks
// that every request's segment arrived, nothing was dropped, and the SDK's
// counters add up exactly.
func TestDaemonPathNoLoss(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		r := daemonPathLoad(t, nil)
		if r.answered != r.requests {
			t.Fatalf("%d of %d requests answered", r.answered, r.requests)
		}
		if got := r.st.SpansSent + r.st.SpansDropped + r.st.SpanSendErrors; got != uint64(r.ended) {
			t.Errorf("accounting: sent %d + dropped %d + errors %d = %d, ended %d", r.st.SpansSent, r.st.SpansDropped, r.st.SpanSendErrors, got, r.ended)
		}
		if r.st.SpansDropped != 0 || r.st.SpanSendErrors != 0 {
			t.Errorf("the SDK dropped %d and failed %d of %d spans", r.st.SpansDropped, r.st.SpanSendErrors, r.ended)
		}
		if int64(r.st.SpansSent) != r.daemon.Handled || r.daemon.Lost() != 0 {
			t.Errorf("sent %d segments, the stand-in handled %d (kernel drops %d, spilled %d)", r.st.SpansSent, r.daemon.Handled, r.daemon.KernelDrops, r.daemon.Spilled)
		}
		if r.daemon.Handled != r.requests {
			t.Errorf("%d segments for %d requests", r.daemon.Handled, r.requests)
		}
	})
	if *compareUnpaced {
		t.Run("unpaced", func(t *testing.T) {
			r := daemonPathLoad(t, &xrayudp.Options{SendRate: -1})
			t.Logf("unpaced: %d of %d segments lost at the daemon (%.1f %%)", r.daemon.Lost(), r.st.SpansSent, 100*float64(r.daemon.Lost())/float64(r.st.SpansSent))
		})
	}
}

type daemonPathResult struct {
	requests, answered, ended int64
	st                        o11y.Stats
	daemon                    udpsink.Counts
	took                      time.Duration
}

// daemonPathLoad runs the load; opts (nil: the SDK's own X-Ray exporter
// from Config) configures a processor of its own instead.
func daemonPathLoad(t *testing.T, opts *xrayudp.Options) daemonPathResult {
	const requests, conns = 3000, 32
	d := newDaemonProcess(t, false)
	errs := &counter{}
	cfg := baseConfig(&lineBuf{discard: true}, errs)
	ended := &spanCounter{}
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{ended}
	var proc *xrayudp.Processor
	if opts == nil {
		cfg.Traces.Exporter = "xray"
		cfg.Traces.DaemonAddress = d.addr()
	} else {
		o := *opts
		o.DaemonAddress, o.ErrorHandler = d.addr(), errs.add
		var err error
		if proc, err = xrayudp.NewSpanProcessor(o); err != nil {
			t.Fatal(err)
		}
		cfg.Traces.SpanProcessors = append(cfg.Traces.SpanProcessors, proc)
	}
	sdk := startSDK(t, cfg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"id":%q}`, r.PathValue("id"))
	})
	srv := httptest.NewServer(httpmw.New(sdk)(mux))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

	start := time.Now()
	var next, ok atomic.Int64
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for i := next.Add(1); i <= requests; i = next.Add(1) {
				st, _, err := get(client, fmt.Sprintf("%s/orders/%d", srv.URL, i), nil)
				if err == nil && st == http.StatusOK {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sdk.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if proc != nil {
		if err := proc.Shutdown(ctx); err != nil {
			t.Errorf("processor Shutdown: %v", err)
		}
	}
	r := daemonPathResult{requests: requests, answered: ok.Load(), ended: ended.ended.Load(), st: sdk.Stats(), took: took}
	if proc != nil {
		x := proc.Stats()
		r.st.SpansSent, r.st.SpansDropped, r.st.SpanSendErrors = x.Sent, x.Dropped, x.Errors
	}
	r.daemon = d.settleAfter(t, int64(r.st.SpansSent))
	t.Logf("%d requests over %d connections answered in %v; spans ended %d; SDK sent %d, dropped %d, errors %d; daemon stand-in handled %d, kernel drops %d, spilled %d; ErrorHandler: %s",
		r.answered, conns, took.Round(time.Millisecond), r.ended, r.st.SpansSent, r.st.SpansDropped, r.st.SpanSendErrors,
		r.daemon.Handled, r.daemon.KernelDrops, r.daemon.Spilled, errs)
	return r
}
