package httpmw_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/metrics"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/middleware/httpmw/chiroute"
)

func TestRouteNamingServeMux(t *testing.T) {
	sdk, rec := newSDK(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})
	mux.HandleFunc("example.com/hosted", func(w http.ResponseWriter, r *http.Request) {})
	srv := serve(t, httpmw.New(sdk)(mux))

	cases := []struct {
		path, host, name, route string
		status                  int
	}{
		{"/orders/42", "", "GET /orders/{id}", "/orders/{id}", 200},
		{"/orders/43", "", "GET /orders/{id}", "/orders/{id}", 200},
		{"/hosted", "example.com", "GET /hosted", "/hosted", 200},
		{"/nope/123", "", "GET " + httpmw.UnknownRoute, "", 404},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec.ResetSpans()
			hdr := map[string]string{}
			if tc.host != "" {
				hdr["Host"] = tc.host
			}
			resp, _ := do(t, nil, "GET", srv.URL+tc.path, hdr)
			require.Equal(t, tc.status, resp.StatusCode)
			s := oneServerSpan(t, rec)
			assert.Equal(t, tc.name, s.Name)
			assert.Equal(t, tc.route, attrString(s, "http.route"))
			assert.Equal(t, tc.path, attrString(s, "url.path"))
			assert.NotContains(t, s.Name, "42", "raw path in the span name")
		})
	}
}

func TestRouteNamingChi(t *testing.T) {
	sdk, rec := newSDK(t)
	r := chi.NewRouter()
	r.Use(httpmw.New(sdk, httpmw.WithRoute(chiroute.Route)))
	r.Get("/orders/{id}", func(w http.ResponseWriter, r *http.Request) {})
	r.Route("/api", func(r chi.Router) {
		r.Get("/items/{item}", func(w http.ResponseWriter, r *http.Request) {})
	})
	srv := serve(t, r)
	for path, want := range map[string]string{
		"/orders/7":    "GET /orders/{id}",
		"/api/items/9": "GET /api/items/{item}",
		"/missing/1":   "GET unknown_route",
	} {
		rec.ResetSpans()
		do(t, nil, "GET", srv.URL+path, nil)
		assert.Equal(t, want, oneServerSpan(t, rec).Name, path)
	}
}

func TestUnknownMethodFolded(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, httpmw.New(sdk)(http.NotFoundHandler()))
	do(t, nil, "FROBNICATE", srv.URL+"/x", nil)
	s := oneServerSpan(t, rec)
	assert.Equal(t, "_OTHER unknown_route", s.Name)
	assert.Equal(t, "FROBNICATE", attrString(s, "http.request.method_original"))
}

func TestFlags(t *testing.T) {
	sdk, rec := newSDK(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /s/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	srv := serve(t, httpmw.New(sdk)(mux))

	cases := []struct {
		path          string
		op            string
		status        int
		errF, faultF  float64
		spanError     bool
		wantException bool
	}{
		{"/s/200", "GET /s/{code}", 200, 0, 0, false, false},
		{"/s/404", "GET /s/{code}", 404, 1, 0, false, false},
		{"/s/429", "GET /s/{code}", 429, 1, 0, false, false},
		{"/s/500", "GET /s/{code}", 500, 0, 1, true, false},
		{"/s/503", "GET /s/{code}", 503, 0, 1, true, false},
		{"/panic", "GET /panic", 500, 0, 1, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			rec.ResetSpans()
			rec.FlushMetrics() // start from an empty aggregate
			before := len(rec.EMF())
			resp, _ := do(t, nil, "GET", srv.URL+tc.path, nil)
			require.Equal(t, tc.status, resp.StatusCode)

			s := oneServerSpan(t, rec)
			assert.Equal(t, tc.op, s.Name)
			assert.Equal(t, strconv.Itoa(tc.status), attrString(s, "http.response.status_code"))
			if tc.spanError {
				assert.Equal(t, codes.Error, s.Status.Code)
			} else {
				assert.Equal(t, codes.Unset, s.Status.Code, "4xx must not set span status Error on a server span")
			}
			hasExc := false
			for _, ev := range s.Events {
				if ev.Name == "exception" {
					hasExc = true
					for _, kv := range ev.Attributes {
						if kv.Key == "exception.stacktrace" {
							assert.Contains(t, kv.Value.AsString(), "server_test.go", "stack of the panic site")
						}
					}
				}
			}
			assert.Equal(t, tc.wantException, hasExc)

			rec.FlushMetrics()
			docs := rec.EMF()[before:]
			var doc map[string]any
			for _, d := range docs {
				if d["Operation"] == tc.op {
					doc = d
				}
			}
			require.NotNil(t, doc, "EMF document for %s in %v", tc.op, docs)
			n, e := metricSum(doc["Error"])
			_, f := metricSum(doc["Fault"])
			assert.Equal(t, 1.0, n, "one request")
			assert.Equal(t, tc.errF, e, "Error")
			assert.Equal(t, tc.faultF, f, "Fault")

			var access map[string]any
			for _, l := range accessLines(rec) {
				if l["path"] == tc.path {
					access = l
				}
			}
			require.NotNil(t, access)
			assert.EqualValues(t, tc.status, access["status"])
		})
	}
}

func TestPanic(t *testing.T) {
	t.Run("recovered after write keeps status", func(t *testing.T) {
		sdk, rec := newSDK(t)
		h := httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte("partial"))
			panic(fmt.Errorf("late"))
		}))
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest("GET", "/p", nil))
		assert.Equal(t, http.StatusAccepted, rr.Code, "no second WriteHeader")
		assert.Equal(t, "partial", rr.Body.String())
		s := oneServerSpan(t, rec)
		assert.Equal(t, "500", attrString(s, "http.response.status_code"), "a panic counts as a fault")
		assert.Equal(t, codes.Error, s.Status.Code)
	})
	t.Run("re-panic", func(t *testing.T) {
		sdk, rec := newSDK(t)
		h := httpmw.New(sdk, httpmw.WithRePanic(true))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic("again")
		}))
		rr := httptest.NewRecorder()
		var got any
		func() {
			defer func() { got = recover() }()
			h.ServeHTTP(rr, httptest.NewRequest("GET", "/p", nil))
		}()
		assert.Equal(t, "again", got)
		s := oneServerSpan(t, rec)
		assert.Equal(t, "500", attrString(s, "http.response.status_code"))
		require.Len(t, s.Events, 1)
		assert.Equal(t, "exception", s.Events[0].Name)
		assert.Len(t, accessLines(rec), 1, "recorded before re-panicking")
	})
	t.Run("ErrAbortHandler passes through", func(t *testing.T) {
		sdk, rec := newSDK(t)
		h := httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}))
		var got any
		func() {
			defer func() { got = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/p", nil))
		}()
		assert.Equal(t, http.ErrAbortHandler, got)
		s := oneServerSpan(t, rec)
		assert.Empty(t, s.Events)
	})
}

func TestSkip(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	cases := []struct {
		name     string
		opts     []httpmw.Option
		path, ua string
		recorded bool
	}{
		{"healthz", nil, "/healthz", "", false},
		{"health", nil, "/health", "", false},
		{"ping", nil, "/ping", "", false},
		{"readyz", nil, "/readyz", "", false},
		{"livez", nil, "/livez", "", false},
		{"elb", nil, "/", "ELB-HealthChecker/2.0", false},
		{"normal", nil, "/healthzz", "", true},
		{"custom prefix", []httpmw.Option{httpmw.WithSkip(httpmw.DefaultSkip, httpmw.PathPrefix("/internal/"))}, "/internal/x", "", false},
		{"custom keeps default", []httpmw.Option{httpmw.WithSkip(httpmw.DefaultSkip, httpmw.PathPrefix("/internal/"))}, "/ping", "", false},
		{"replaced", []httpmw.Option{httpmw.WithSkip(httpmw.PathPrefix("/internal/"))}, "/healthz", "", true},
		{"none", []httpmw.Option{httpmw.WithSkip()}, "/healthz", "", true},
		{"and/not", []httpmw.Option{httpmw.WithSkip(httpmw.And(httpmw.Method("GET"), httpmw.Not(httpmw.Path("/keep"))))}, "/keep", "", true},
		{"and/not skip", []httpmw.Option{httpmw.WithSkip(httpmw.And(httpmw.Method("GET"), httpmw.Not(httpmw.Path("/keep"))))}, "/drop", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sdk, rec := newSDK(t)
			srv := serve(t, httpmw.New(sdk, tc.opts...)(h))
			resp, body := do(t, nil, "GET", srv.URL+tc.path, map[string]string{"User-Agent": tc.ua})
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "ok", body)
			rec.FlushMetrics()
			if tc.recorded {
				assert.Len(t, rec.Spans(), 1)
				assert.Len(t, accessLines(rec), 1)
				assert.NotEmpty(t, rec.EMF())
				return
			}
			assert.Empty(t, rec.Spans(), "no span")
			assert.Empty(t, accessLines(rec), "no access line")
			for _, d := range rec.EMF() {
				n, _ := metricSum(d["Latency"])
				assert.Zero(t, n, "no metrics: %v", d)
			}
			assert.Empty(t, resp.Header.Get("X-Amzn-Trace-Id"))
		})
	}
}

func TestRequestID(t *testing.T) {
	sdk, rec := newSDK(t)
	var seen string
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = reqstate.RequestID(r.Context())
	})))
	gen := regexp.MustCompile(`^[0-9a-f]{32}$`)
	cases := []struct {
		name, in string
		keep     bool
	}{
		{"valid", "abc-123_X.y:z", true},
		{"gRPC-style id", "svc@host/YWJj+ZA==", true},
		{"max length", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"bad chars", `x"},"level":"ERROR`, false},
		{"spaces", "a b", false},
		{"missing", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec.ResetSpans()
			resp, _ := do(t, nil, "GET", srv.URL+"/r", map[string]string{"X-Request-Id": tc.in})
			got := resp.Header.Get("X-Request-Id")
			if tc.keep {
				assert.Equal(t, tc.in, got)
			} else {
				assert.Regexp(t, gen, got)
			}
			assert.Equal(t, got, seen, "request state")
			assert.Equal(t, got, attrString(oneServerSpan(t, rec), httpmw.AttrRequestID), "span")
			lines := accessLines(rec)
			require.NotEmpty(t, lines)
			assert.Equal(t, got, lines[len(lines)-1]["request_id"], "access line")
		})
	}
	// generated ids differ
	r1, _ := do(t, nil, "GET", srv.URL+"/r", nil)
	r2, _ := do(t, nil, "GET", srv.URL+"/r", nil)
	assert.NotEqual(t, r1.Header.Get("X-Request-Id"), r2.Header.Get("X-Request-Id"))
}

func TestCustomRequestIDHeaderAndAccessLogOff(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, httpmw.New(sdk, httpmw.WithRequestIDHeader("x-correlation-id"), httpmw.WithAccessLog(nil))(http.NotFoundHandler()))
	resp, _ := do(t, nil, "GET", srv.URL+"/r", map[string]string{"X-Correlation-Id": "corr-1"})
	assert.Equal(t, "corr-1", resp.Header.Get("X-Correlation-Id"))
	assert.Empty(t, resp.Header.Get("X-Request-Id"))
	assert.Empty(t, accessLines(rec))
	assert.Len(t, rec.Spans(), 1)
}

// TestAccessLevels: the access line's level follows the outcome (the same
// policy as grpcmw): the configured level on success, Warn for client
// errors, Error for faults; Config.Logs.AccessLog (O11Y_ACCESS_LOG) sets the
// base level or turns the line off.
func TestAccessLevels(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
	})
	for _, tc := range []struct {
		cfg  string
		want map[int]string // status → level; missing: no line
	}{
		{"", map[int]string{200: "INFO", 404: "WARN", 429: "WARN", 500: "ERROR"}},
		{"warn", map[int]string{200: "WARN", 404: "WARN", 500: "ERROR"}},
		{"off", map[int]string{}},
	} {
		t.Run("O11Y_ACCESS_LOG="+tc.cfg, func(t *testing.T) {
			sdk, rec := newSDK(t, func(c *o11y.Config) { c.Logs.AccessLog = o11y.AccessLogLevel(tc.cfg) })
			mw := httpmw.New(sdk)(h)
			for _, code := range []int{200, 404, 429, 500} {
				mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/"+strconv.Itoa(code), nil))
			}
			got := map[int]string{}
			for _, l := range accessLines(rec) {
				got[int(l["status"].(float64))] = l["level"].(string)
			}
			for code, level := range tc.want {
				assert.Equal(t, level, got[code], "status %d", code)
			}
			if len(tc.want) == 0 {
				assert.Empty(t, got)
			}
		})
	}
}

// TestOperationCap: past the metrics recorder's operation cap, span names
// fold into "other" exactly as the metrics Operation dimension does.
func TestOperationCap(t *testing.T) {
	sdk, rec := newSDK(t)
	mw := httpmw.New(sdk, httpmw.WithRoute(func(r *http.Request) string { return r.URL.Path }))(http.NotFoundHandler())
	const n = metrics.DefaultMaxOperations + 5
	for i := 0; i < n; i++ {
		mw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/r"+strconv.Itoa(i), nil))
	}
	spans := map[string]int{}
	for _, s := range rec.Spans() {
		spans[s.Name]++
	}
	assert.Equal(t, 1, spans["GET /r0"])
	assert.Equal(t, 5, spans[metrics.OtherOperation], "span names past the cap")
	rec.FlushMetrics()
	ops := map[string]float64{}
	for _, d := range rec.EMF() {
		c, _ := metricSum(d["Latency"])
		ops[d["Operation"].(string)] += c
	}
	assert.Len(t, ops, metrics.DefaultMaxOperations+1)
	for name, c := range spans {
		assert.Equal(t, float64(c), ops[name], "metrics Operation %q matches the span names", name)
	}
}

const (
	inTrace  = "1-5759e988-bd862e3fe1be46a994272793"
	inParent = "53995c3f42cd8ad8"
)

func TestTraceHeaders(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	wantTID, _ := trace.TraceIDFromHex("5759e988bd862e3fe1be46a994272793")
	wantPID, _ := trace.SpanIDFromHex(inParent)

	t.Run("none", func(t *testing.T) {
		rec.ResetSpans()
		resp, _ := do(t, nil, "GET", srv.URL+"/", nil)
		s := oneServerSpan(t, rec)
		assert.False(t, s.Parent.IsValid())
		assert.Equal(t, "Root="+xrayTraceID(s.SpanContext.TraceID()), resp.Header.Get("X-Amzn-Trace-Id"))
	})
	t.Run("full", func(t *testing.T) {
		rec.ResetSpans()
		resp, _ := do(t, nil, "GET", srv.URL+"/", map[string]string{"X-Amzn-Trace-Id": "Root=" + inTrace + ";Parent=" + inParent + ";Sampled=1"})
		s := oneServerSpan(t, rec)
		assert.Equal(t, wantTID, s.SpanContext.TraceID())
		assert.Equal(t, wantPID, s.Parent.SpanID())
		assert.Equal(t, "Root="+inTrace+";Parent="+inParent+";Sampled=1", resp.Header.Get("X-Amzn-Trace-Id"))
	})
	t.Run("sampled=?", func(t *testing.T) {
		rec.ResetSpans()
		resp, _ := do(t, nil, "GET", srv.URL+"/", map[string]string{"X-Amzn-Trace-Id": "Root=" + inTrace + ";Parent=" + inParent + ";Sampled=?"})
		s := oneServerSpan(t, rec) // always-on sampler: the decision is "sampled"
		assert.Equal(t, wantTID, s.SpanContext.TraceID())
		assert.Equal(t, "Root="+inTrace+";Parent="+inParent+";Sampled=1", resp.Header.Get("X-Amzn-Trace-Id"))
	})
	t.Run("root only", func(t *testing.T) {
		rec.ResetSpans()
		resp, _ := do(t, nil, "GET", srv.URL+"/", map[string]string{"X-Amzn-Trace-Id": "Root=" + inTrace})
		s := oneServerSpan(t, rec)
		assert.Equal(t, wantTID, s.SpanContext.TraceID(), "trace continued")
		assert.False(t, s.Parent.IsValid())
		assert.Equal(t, "Root="+inTrace, resp.Header.Get("X-Amzn-Trace-Id"))
	})
	t.Run("8KiB junk", func(t *testing.T) {
		rec.ResetSpans()
		junk := "Root=" + strings.Repeat("zz;Parent=;", 8192/11)
		require.GreaterOrEqual(t, len(junk), 8000)
		resp, body := do(t, nil, "GET", srv.URL+"/", map[string]string{"X-Amzn-Trace-Id": junk})
		assert.Equal(t, 200, resp.StatusCode)
		assert.Empty(t, body)
		s := oneServerSpan(t, rec)
		assert.False(t, s.Parent.IsValid(), "new trace")
		assert.Equal(t, "Root="+xrayTraceID(s.SpanContext.TraceID()), resp.Header.Get("X-Amzn-Trace-Id"))
	})
}

func xrayTraceID(id trace.TraceID) string {
	h := id.String()
	return "1-" + h[:8] + "-" + h[8:]
}

func TestSampledZeroStillCounted(t *testing.T) {
	sdk, rec := newSDK(t, func(c *o11y.Config) { c.Traces.Sampler = "parentbased_always_on" })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /z", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	srv := serve(t, httpmw.New(sdk)(mux))
	resp, _ := do(t, nil, "GET", srv.URL+"/z", map[string]string{"X-Amzn-Trace-Id": "Root=" + inTrace + ";Parent=" + inParent + ";Sampled=0"})
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "Root="+inTrace+";Parent="+inParent+";Sampled=0", resp.Header.Get("X-Amzn-Trace-Id"))
	assert.Empty(t, rec.Spans(), "not recorded")
	rec.FlushMetrics()
	doc := emfFor(rec, "GET /z")
	require.NotNil(t, doc, "metrics for unsampled requests")
	_, f := metricSum(doc["Fault"])
	assert.Equal(t, 1.0, f)
	require.Len(t, accessLines(rec), 1)
	assert.Equal(t, inTrace, accessLines(rec)[0]["xray_trace_id"])
}

// finished wraps h so that done receives a value after h (the middleware,
// whose deferred finish ends the span) has returned: the sync point for
// handlers the client sees finish before the server does (streams, hijacked
// connections).
func finished(h http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{}, 16)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		h.ServeHTTP(w, r)
	}), done
}

// waitDone waits for one value; the timeout only turns a hang into a failure.
func waitDone(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never returned")
	}
}

func TestSSEStreaming(t *testing.T) {
	sdk, rec := newSDK(t)
	next := make(chan struct{})
	h, done := finished(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		f, ok := w.(http.Flusher)
		if !assert.True(t, ok) {
			return
		}
		for i := 0; i < 3; i++ {
			fmt.Fprintf(w, "data: %d\n\n", i)
			f.Flush()
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})))
	srv := serve(t, h)
	resp, err := http.Get(srv.URL + "/events")
	require.NoError(t, err)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	for i := 0; i < 3; i++ {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("data: %d\n", i), line, "event arrives before the handler returns")
		_, _ = br.ReadString('\n')
		next <- struct{}{}
	}
	waitDone(t, done)
	require.Len(t, rec.Spans(), 1)
	assert.Equal(t, "200", attrString(rec.Spans()[0], "http.response.status_code"))
}

func TestHijackAndResponseController(t *testing.T) {
	sdk, rec := newSDK(t)
	h, done := finished(httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		assert.NoError(t, rc.SetWriteDeadline(time.Now().Add(5*time.Second)), "Unwrap reaches the server's writer")
		conn, brw, err := rc.Hijack()
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		line, _ := brw.ReadString('\n')
		_, _ = brw.WriteString("echo:" + line)
		_ = brw.Flush()
	})))
	srv := serve(t, h)
	req, _ := http.NewRequest("GET", srv.URL+"/ws", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	rw, ok := resp.Body.(interface {
		Write([]byte) (int, error)
		Read([]byte) (int, error)
		Close() error
	})
	require.True(t, ok)
	_, _ = rw.Write([]byte("hello\n"))
	got, _ := bufio.NewReader(rw).ReadString('\n')
	assert.Equal(t, "echo:hello\n", got)
	_ = rw.Close()
	waitDone(t, done)
	require.Len(t, rec.Spans(), 1)
	assert.Equal(t, "101", attrString(rec.Spans()[0], "http.response.status_code"))
}

func TestSecretsNeverRecorded(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})))
	c := httpmw.Client(sdk, nil)
	u := strings.Replace(srv.URL, "http://", "http://alice:SECRET-PASS@", 1) + "/path?token=SECRET-TOKEN&x=1"
	resp, _ := do(t, c, "GET", u, map[string]string{
		"Authorization": "Bearer SECRET-AUTH",
		"Cookie":        "session=SECRET-COOKIE",
	})
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, rec.Spans(), 2)
	secrets := []string{"SECRET-PASS", "SECRET-TOKEN", "SECRET-AUTH", "SECRET-COOKIE", "alice"}
	for _, s := range rec.Spans() {
		for _, kv := range s.Attributes {
			assert.Empty(t, containsAny(kv.Value.String(), secrets...), "span %s attribute %s", s.Name, kv.Key)
		}
		assert.Empty(t, containsAny(s.Name, secrets...))
	}
	for _, l := range rec.Lines() {
		assert.Empty(t, containsAny(string(l), secrets...), "log line %s", l)
	}
}

func TestDisabledSDK(t *testing.T) {
	sdk, err := o11y.Start(context.Background(), o11y.Config{Disable: true, DisableGlobals: true, Output: io.Discard})
	require.NoError(t, err)
	h := httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, httptest.NewRequest("GET", "/x", nil))
	assert.Equal(t, "ok", rr.Body.String())
	assert.Len(t, rr.Header().Get("X-Request-Id"), 32)
	assert.Empty(t, rr.Header().Get("X-Amzn-Trace-Id"), "no trace, no header")

	var nilSDK *o11y.SDK // means o11y.Default()
	rr = httptest.NewRecorder()
	httpmw.New(nilSDK)(http.NotFoundHandler()).ServeHTTP(rr, httptest.NewRequest("GET", "/x", nil))
	assert.Equal(t, 404, rr.Code)
}
