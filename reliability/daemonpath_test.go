package reliability

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/udpsink"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// TestDaemonPathNoLoss serves 3,000 sampled requests over 32 keep-alive
// connections through the HTTP middleware, sending segments to a stand-in
// that reads like the X-Ray daemon (kernel-default receive buffer, one
// reader goroutine), shuts the SDK down and checks that every request's
// segment arrived and that the SDK's counters add up exactly.
func TestDaemonPathNoLoss(t *testing.T) {
	const requests, conns = 3000, 32
	sink := udpsink.StartChild(t, false)
	errs := &counter{}
	cfg := baseConfig(&lineBuf{discard: true}, errs)
	ended := &spanCounter{}
	rate, _ := strconv.Atoi(os.Getenv("XR_RATE"))
	burst, _ := strconv.Atoi(os.Getenv("XR_BURST"))
	proc, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: sink.Addr, ErrorHandler: errs.add, SendRate: rate, SendBurst: burst})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Traces.SpanProcessors = []sdktrace.SpanProcessor{ended, proc}
	sdk := startSDK(t, cfg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"id":%q}`, r.PathValue("id"))
	})
	srv := httptest.NewServer(httpmw.New(sdk)(mux))
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()

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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sdk.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	x := proc.Stats()
	st := struct{ SpansSent, SpansDropped, SpanSendErrors uint64 }{x.Sent, x.Dropped, x.Errors}
	c, err := sink.Counts()
	if err != nil {
		t.Fatal(err)
	}
	kd := c.KernelDrops
	t.Logf("%d requests answered; spans ended %d; SDK sent %d, dropped %d, errors %d; stand-in received %d, kernel drops %d, spilled %d",
		ok.Load(), ended.ended.Load(), st.SpansSent, st.SpansDropped, st.SpanSendErrors, c.Received, kd, c.Spilled)
	if ok.Load() != requests {
		t.Fatalf("%d of %d requests answered", ok.Load(), requests)
	}
	if got := int64(st.SpansSent + st.SpansDropped + st.SpanSendErrors); got != ended.ended.Load() {
		t.Errorf("accounting: sent %d + dropped %d + errors %d = %d, ended %d", st.SpansSent, st.SpansDropped, st.SpanSendErrors, got, ended.ended.Load())
	}
	if lost := int64(st.SpansSent) - c.Handled; lost != 0 || c.Lost() != 0 {
		t.Errorf("sent %d segments, the stand-in handled %d (kernel drops %d, spilled %d)", st.SpansSent, c.Handled, kd, c.Spilled)
	}
	if st.SpansDropped != 0 || st.SpanSendErrors != 0 {
		t.Errorf("at %d requests the SDK dropped %d and failed %d", requests, st.SpansDropped, st.SpanSendErrors)
	}
}
