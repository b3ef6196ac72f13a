package reliability

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// completed is one request whose response the client received.
type completed struct {
	id     string // X-Request-Id sent and echoed
	trace  string // Root= of the response X-Amzn-Trace-Id
	status int
	op     string // expected metrics operation
}

// TestSIGTERMUnderLoad runs the examples' orders service as a child process
// against a stand-in daemon, drives it with concurrent clients, sends
// SIGTERM mid-load and checks that every request a client saw completed has
// its segment, its access line and its EMF count (exactly), and that the
// process exits 0 within 10 s.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the orders binary")
	}
	bin := buildOrders(t)
	// The daemon is a process of its own, as in production.
	d := newDaemonProcess(t, true)
	// A slow inventory service: POST /checkout calls it, so checkouts are
	// in flight when SIGTERM arrives and must complete during the drain.
	var downstreamCalls atomic.Int64
	inventory := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downstreamCalls.Add(1)
		time.Sleep(100 * time.Millisecond)
		_, _ = io.WriteString(w, `{"reserved":true}`)
	}))
	t.Cleanup(inventory.Close)
	const service = "orders-reliability"
	p := startProc(t, bin, map[string]string{
		"DOWNSTREAM_URL":          inventory.URL,
		"OTEL_SERVICE_NAME":       service,
		"AWS_XRAY_DAEMON_ADDRESS": d.addr(),
		"OTEL_TRACES_SAMPLER":     "always_on",
		"O11Y_RESOURCE_DETECTION": "false",
		"AWS_EMF_NAMESPACE":       "Reliability",
	})

	// SIGTERM goes once this many requests have completed, so it always
	// arrives mid-load (counted, not timed).
	clients, before := 32, 1500
	if *soak {
		before = 10000
	}
	var (
		mu      sync.Mutex
		done    []completed
		errs    = map[string]int{}
		stopped atomic.Bool
		wg      sync.WaitGroup
		reached = make(chan struct{})
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			defer hc.CloseIdleConnections()
			for n := 0; ; n++ {
				id := fmt.Sprintf("rel-%d-%d", c, n)
				var req *http.Request
				op := "GET /orders/{id}"
				switch n % 3 {
				case 0, 1:
					req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/orders/%d", p.BaseURL, n), nil)
				default:
					op = "POST /checkout"
					req, _ = http.NewRequest(http.MethodPost, p.BaseURL+"/checkout", strings.NewReader(`{"order_id":"`+id+`"}`))
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("X-Request-Id", id)
				resp, err := hc.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					mu.Lock()
					msg := err.Error()
					if i := strings.LastIndex(msg, ": "); i >= 0 {
						msg = msg[i+2:]
					}
					errs[msg]++
					mu.Unlock()
					if stopped.Load() {
						return // the server is going away: expected
					}
					continue
				}
				mu.Lock()
				done = append(done, completed{id: id, trace: rootOf(resp.Header.Get("X-Amzn-Trace-Id")), status: resp.StatusCode, op: op})
				if len(done) == before {
					close(reached)
				}
				mu.Unlock()
			}
		}()
	}

	select {
	case <-reached:
	case <-time.After(2 * time.Minute): // bounds a failing test only
		mu.Lock()
		n := len(done)
		mu.Unlock()
		t.Fatalf("only %d requests completed", n)
	}
	mu.Lock()
	before = len(done)
	mu.Unlock()
	stopped.Store(true)
	sigAt := time.Now()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, took := p.Wait(10 * time.Second)
	wg.Wait()
	counts := d.settle(t)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d clients; %d requests completed (%d before SIGTERM, %d after); exit code %d %v after SIGTERM; client errors after SIGTERM: %v",
		clients, len(done), before, len(done)-before, code, took.Round(time.Millisecond), errs)
	if code != 0 {
		t.Errorf("exit code %d (want 0 within 10 s); stderr:\n%s", code, p.stderr.Bytes())
	}
	if took > 10*time.Second {
		t.Errorf("exit took %v after SIGTERM (deadline 10 s)", took)
	}
	_ = sigAt
	if len(done) < 50 {
		t.Fatalf("only %d requests completed; the load did not run", len(done))
	}

	out := checkLines(t, p.stdout.Bytes())
	segs := checkDatagrams(t, d.datagrams(t))
	if counts.Lost() != 0 {
		t.Errorf("the stand-in daemon lost %d datagrams (kernel drops %d, spilled %d)", counts.Lost(), counts.KernelDrops, counts.Spilled)
	}

	// Segments: the service's own segment for every completed request.
	byTrace := map[string][]segDoc{}
	for _, s := range segs {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	// Access lines by request id.
	access := map[string]map[string]any{}
	nAccess := 0
	for _, l := range out.logs {
		if l["msg"] != "access" {
			continue
		}
		nAccess++
		if id, _ := l["request_id"].(string); id != "" {
			access[id] = l
		}
	}
	wantOps := map[string]int{}
	missingSeg, missingLog := 0, 0
	for _, c := range done {
		wantOps[c.op]++
		found := false
		for _, s := range byTrace[c.trace] {
			if s.Name == service && s.ParentID == "" && s.HTTP.Response.Status == c.status {
				found = true
			}
		}
		if !found {
			if missingSeg++; missingSeg <= 5 {
				t.Errorf("request %s (trace %s, status %d): no segment", c.id, c.trace, c.status)
			}
		}
		l, ok := access[c.id]
		if !ok {
			if missingLog++; missingLog <= 5 {
				t.Errorf("request %s: no access line", c.id)
			}
		} else if st, _ := l["status"].(float64); int(st) != c.status {
			t.Errorf("request %s: access line status %v, response %d", c.id, l["status"], c.status)
		}
	}
	if missingSeg+missingLog > 0 {
		t.Errorf("%d of %d completed requests have no segment, %d no access line", missingSeg, len(done), missingLog)
	}
	if nAccess != len(done) {
		t.Errorf("%d access lines for %d completed requests", nAccess, len(done))
	}

	// EMF: request counts per operation equal what the clients saw, exactly.
	got := emfRequestCounts(t, out.emf, service)
	total := 0
	for _, n := range got {
		total += n
	}
	if total != len(done) {
		t.Errorf("EMF counts %d requests %v, clients completed %d %v", total, got, len(done), wantOps)
	}
	for op, n := range wantOps {
		if got[op] != n {
			t.Errorf("EMF operation %q: %d requests, clients completed %d", op, got[op], n)
		}
	}
	if downstreamCalls.Load() == 0 {
		t.Error("the inventory service was never called")
	}
	t.Logf("segments received %d (datagrams %d); access lines %d; EMF documents %d, requests counted %v",
		len(segs), counts.Handled, nAccess, len(out.emf), got)
}

// rootOf returns the Root= value of an X-Amzn-Trace-Id header.
func rootOf(h string) string {
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(k, "Root") {
			return v
		}
	}
	return ""
}
