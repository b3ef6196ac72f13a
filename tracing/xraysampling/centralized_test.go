package xraysampling

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeProxy serves the X-Ray daemon's sampling API shapes (xray.md §5.2).
type fakeProxy struct {
	mu          sync.Mutex
	rules       string // GetSamplingRules response body
	targets     func(docs []statisticsDocument) string
	status      int // non-zero: answer every request with this status
	rulesCalls  int
	targetCalls int
	stats       []statisticsDocument
	hang        chan struct{} // non-nil: block requests until closed, then answer nothing
	arrived     chan struct{} // non-nil: signalled (without blocking) when a hanging request arrives
	gate        chan struct{} // non-nil: hold requests until closed, then answer
}

func (f *fakeProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hang, arrived := f.hang, f.arrived
	f.mu.Unlock()
	if hang != nil {
		if arrived != nil {
			select {
			case arrived <- struct{}{}:
			default:
			}
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	if f.gate != nil { // set before the server starts, never changed
		select {
		case <-f.gate:
		case <-r.Context().Done():
			return
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if f.status != 0 {
		http.Error(w, `{"message":"down"}`, f.status)
		return
	}
	switch r.URL.Path {
	case "/GetSamplingRules":
		f.rulesCalls++
		_, _ = w.Write([]byte(f.rules))
	case "/SamplingTargets":
		f.targetCalls++
		var in getTargetsInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.stats = append(f.stats, in.SamplingStatisticsDocuments...)
		body := `{"SamplingTargetDocuments":[],"UnprocessedStatistics":[]}`
		if f.targets != nil {
			body = f.targets(in.SamplingStatisticsDocuments)
		}
		_, _ = w.Write([]byte(body))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeProxy) set(fn func(f *fakeProxy)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeProxy) get(fn func(f *fakeProxy)) { f.set(fn) }

const rulesBody = `{"SamplingRuleRecords":[
 {"SamplingRule":{"RuleName":"Default","RuleARN":"arn:aws:xray:us-east-1:123456789012:sampling-rule/Default","ResourceARN":"*","Priority":10000,
  "FixedRate":0.05,"ReservoirSize":1,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":{}},
  "CreatedAt":0.0,"ModifiedAt":1530558121.0},
 {"SamplingRule":{"RuleName":"api","ResourceARN":"*","Priority":1,"FixedRate":0,"ReservoirSize":5,"ServiceName":"SHOP","ServiceType":"AWS::ECS::*",
  "Host":"*","HTTPMethod":"*","URLPath":"/api/*","Version":1,"Attributes":{}},"CreatedAt":0.0,"ModifiedAt":0.0},
 {"SamplingRule":{"RuleName":"grpc","ResourceARN":"*","Priority":2,"FixedRate":1,"ReservoirSize":0,"ServiceName":"*","ServiceType":"*",
  "Host":"*","HTTPMethod":"*","URLPath":"*","Version":1,"Attributes":{"rpc.system":"grpc","rpc.method":"Get*"}}},
 {"SamplingRule":{"RuleName":"other-service","ResourceARN":"*","Priority":1,"FixedRate":1,"ReservoirSize":0,"ServiceName":"billing","ServiceType":"*",
  "Host":"*","HTTPMethod":"*","URLPath":"*","Version":1}},
 {"SamplingRule":{"RuleName":"future-version","ResourceARN":"*","Priority":1,"FixedRate":1,"ReservoirSize":0,"ServiceName":"*","ServiceType":"*",
  "Host":"*","HTTPMethod":"*","URLPath":"*","Version":2}}
],"NextToken":null}`

func startProxy(t *testing.T, f *fakeProxy) (addr string, srv *httptest.Server) {
	t.Helper()
	srv = httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), srv
}

func centralSampler(t *testing.T, addr string, clk *fakeClock, errs chan<- error, local []byte) *Sampler {
	t.Helper()
	s, err := New(Options{
		ServiceName: "shop", ServiceType: "AWS::ECS::Fargate",
		Rules: local, Centralized: true, ProxyAddress: addr,
		RulesInterval: time.Hour, TargetsInterval: 20 * time.Millisecond,
		HTTPTimeout: time.Second, StaleAfter: time.Minute,
		Now: clk.Now, Random: constRandom(0.99),
		ErrorHandler: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
	return s
}

func waitCentral(t *testing.T, s *Sampler) {
	t.Helper()
	require.Eventually(t, func() bool { return s.central.Load() != nil }, 30*time.Second, 5*time.Millisecond)
}

func TestCentralizedRulesQuotasAndBorrowing(t *testing.T) {
	f := &fakeProxy{rules: rulesBody}
	clk := newFakeClock()
	f.targets = func(docs []statisticsDocument) string {
		ttl := float64(clk.Now().Unix() + 60)
		out := map[string]any{"LastRuleModification": 1530920505.0, "UnprocessedStatistics": []any{}}
		var tds []map[string]any
		for _, d := range docs {
			if d.RuleName == "api" {
				tds = append(tds, map[string]any{"RuleName": "api", "FixedRate": 0.0, "ReservoirQuota": 3, "ReservoirQuotaTTL": ttl, "Interval": 10})
			}
		}
		out["SamplingTargetDocuments"] = tds
		b, _ := json.Marshal(out)
		return string(b)
	}
	addr, _ := startProxy(t, f)
	s := centralSampler(t, addr, clk, make(chan error, 8), nil)
	waitCentral(t, s)

	set := s.central.Load()
	var names []string
	for _, r := range set.rules {
		names = append(names, r.name)
	}
	assert.Equal(t, []string{"api", "grpc", "Default"}, names, "priority order; other service and Version 2 dropped")

	api := httpParams("GET", "/api/orders", "shop.example.com")
	assert.Equal(t, "api", s.RuleName(api))
	assert.Equal(t, "Default", s.RuleName(httpParams("GET", "/home", "x")))
	assert.Equal(t, "grpc", s.RuleName(params(attrS("rpc.system", "grpc"), attrS("rpc.method", "GetUser"))))
	assert.Equal(t, "Default", s.RuleName(params(attrS("rpc.system", "grpc"))), "all rule attributes must be present")

	// No quota yet: borrow one per second, then FixedRate 0.
	assert.Equal(t, 1, countSampled(s, api, 10))

	// The next targets poll reports the statistics and brings a quota of 3/s.
	require.Eventually(t, func() bool {
		r := set.rules[0]
		return r.target.Load() != nil
	}, 30*time.Second, 5*time.Millisecond)
	var stats []statisticsDocument
	f.get(func(f *fakeProxy) { stats = append(stats, f.stats...) })
	require.NotEmpty(t, stats)
	assert.Equal(t, "api", stats[0].RuleName)
	assert.Equal(t, int64(10), stats[0].RequestCount)
	assert.Equal(t, int64(0), stats[0].SampledCount)
	assert.Equal(t, int64(1), stats[0].BorrowCount)
	assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{24}$`), stats[0].ClientID)
	assert.Equal(t, clk.Now().Unix(), stats[0].Timestamp)

	clk.Add(time.Second)
	assert.Equal(t, 3, countSampled(s, api, 10), "quota of 3/s then rate 0")
	clk.Add(time.Second)
	assert.Equal(t, 3, countSampled(s, api, 10))

	// Quota expired: borrowing again.
	clk.Add(2 * time.Minute)
	assert.Equal(t, 1, countSampled(s, api, 10))
}

func attrS(k, v string) attribute.KeyValue { return attribute.String(k, v) }

func TestCentralizedFallsBackToLocalWhenProxyGoesDown(t *testing.T) {
	f := &fakeProxy{rules: rulesBody, gate: make(chan struct{})}
	addr, _ := startProxy(t, f)
	clk := newFakeClock()
	errs := make(chan error, 8)
	local := []byte(`{"version":2,"default":{"fixed_target":0,"rate":0},"rules":[{"description":"local-api","url_path":"/api/*","fixed_target":0,"rate":1}]}`)
	s := centralSampler(t, addr, clk, errs, local)
	p := httpParams("GET", "/api/x", "h")
	assert.Equal(t, "local-api", s.RuleName(p), "local rules decide before the first poll lands")
	close(f.gate)
	waitCentral(t, s)
	assert.Equal(t, "api", s.RuleName(p))

	f.set(func(f *fakeProxy) { f.status = http.StatusInternalServerError })
	countSampled(s, p, 5) // traffic, so statistics are due
	select {
	case err := <-errs:
		assert.Contains(t, err.Error(), "GetSamplingTargets")
		assert.Contains(t, err.Error(), "500")
	case <-time.After(30 * time.Second):
		t.Fatal("no error reported while the proxy fails")
	}
	assert.Equal(t, "api", s.RuleName(p), "centralized rules stay until stale")
	clk.Add(2 * time.Minute)
	assert.Equal(t, "local-api", s.RuleName(p), "stale centralized rules: back to local rules")
	assert.Equal(t, 5, countSampled(s, p, 5))
}

func TestCentralizedUnreachableIsReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	errs := make(chan error, 8)
	s := centralSampler(t, addr, newFakeClock(), errs, nil)
	assert.Equal(t, "Default", s.RuleName(params()))
	select {
	case err := <-errs:
		assert.Contains(t, err.Error(), "GetSamplingRules")
	case <-time.After(30 * time.Second):
		t.Fatal("connection refused not reported")
	}
	assert.Nil(t, s.central.Load())
}

// New never waits for the proxy: with the first poll provably in flight
// (the proxy holds it and would for an hour), New has already returned and
// the local rules decide.
func TestCentralizedNewNeverWaitsForProxy(t *testing.T) {
	hang := make(chan struct{})
	f := &fakeProxy{rules: rulesBody, hang: hang, arrived: make(chan struct{}, 1)}
	addr, srv := startProxy(t, f)
	s, err := New(Options{ServiceName: "shop", Centralized: true, ProxyAddress: addr, HTTPTimeout: time.Hour})
	require.NoError(t, err)
	select {
	case <-f.arrived:
	case <-time.After(30 * time.Second):
		t.Fatal("the first poll never reached the proxy")
	}
	assert.Equal(t, "Default", s.RuleName(params()), "local rules decide while the poll hangs")
	assert.Nil(t, s.central.Load())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	close(hang)
	srv.Close()
}

// Shutdown aborts a poll the proxy never answers (HTTPTimeout is an hour):
// Shutdown returns nil only once the poller has stopped, and would return
// the context's error if it waited for the request instead.
func TestShutdownAbortsHangingRequest(t *testing.T) {
	hang := make(chan struct{})
	f := &fakeProxy{rules: rulesBody, hang: hang, arrived: make(chan struct{}, 1)}
	addr, srv := startProxy(t, f)
	s, err := New(Options{Centralized: true, ProxyAddress: addr, HTTPTimeout: time.Hour})
	require.NoError(t, err)
	select {
	case <-f.arrived: // the first poll is waiting in the proxy
	case <-time.After(30 * time.Second):
		t.Fatal("the first poll never reached the proxy")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	require.NoError(t, s.Shutdown(ctx), "idempotent")
	close(hang)
	srv.Close()
}

func TestLastRuleModificationRefreshesRules(t *testing.T) {
	f := &fakeProxy{rules: rulesBody}
	f.targets = func([]statisticsDocument) string {
		return `{"SamplingTargetDocuments":[],"LastRuleModification":4102444800,` +
			`"UnprocessedStatistics":[{"RuleName":"api","ErrorCode":"400","Message":"bad"}]}`
	}
	addr, _ := startProxy(t, f)
	errs := make(chan error, 8)
	s := centralSampler(t, addr, newFakeClock(), errs, nil)
	waitCentral(t, s)
	countSampled(s, httpParams("GET", "/api/x", "h"), 3)
	require.Eventually(t, func() bool {
		n := 0
		f.get(func(f *fakeProxy) { n = f.rulesCalls })
		return n >= 2
	}, 30*time.Second, 5*time.Millisecond)
	select {
	case err := <-errs:
		assert.Contains(t, err.Error(), `unprocessed statistics for rule "api": 400 bad`)
	case <-time.After(30 * time.Second):
		t.Fatal("unprocessed statistics not reported")
	}
}

func TestRulesRefreshKeepsStateOfUnchangedRules(t *testing.T) {
	f := &fakeProxy{rules: rulesBody}
	addr, _ := startProxy(t, f)
	s := centralSampler(t, addr, newFakeClock(), make(chan error, 8), nil)
	waitCentral(t, s)
	set := s.central.Load()
	before := set.rules[0]
	s.poll.refresh <- struct{}{}
	// Every completed rules poll installs a new rule set.
	require.Eventually(t, func() bool { return s.central.Load() != set }, 30*time.Second, 5*time.Millisecond)
	assert.Same(t, before, s.central.Load().rules[0], "unchanged rule keeps its reservoir state")
}

func TestEpoch(t *testing.T) {
	assert.Equal(t, time.Unix(1530923107, 500_000_000), epoch(1530923107.5))
	assert.True(t, epoch(-1).IsZero())
	assert.True(t, epoch(1e300).IsZero())
	assert.NotErrorIs(t, errors.New("x"), context.Canceled)
}

func TestProxyHostPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "127.0.0.1:2000"},
		{"xray-daemon:2000", "xray-daemon:2000"},
		{"tcp:10.0.0.1:2001 udp:10.0.0.1:2000", "10.0.0.1:2001"},
		{"udp:10.0.0.1:2000 tcp:10.0.0.2:2001", "10.0.0.2:2001"},
		{"udp:10.0.0.1:2000 udp:10.0.0.2:2001", "127.0.0.1:2000"},
		{"http://localhost:2000/", "localhost:2000"},
		{"[::1]:2000", "[::1]:2000"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, proxyHostPort(tc.in), tc.in)
	}
}

func TestRulesPagination(t *testing.T) {
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in getRulesInput
		_ = json.NewDecoder(r.Body).Decode(&in)
		mu.Lock()
		defer mu.Unlock()
		if in.NextToken == nil {
			tokens = append(tokens, "<nil>")
			_, _ = w.Write([]byte(`{"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"a","Priority":5,"FixedRate":1,"ReservoirSize":0,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"/a","ResourceARN":"*","Version":1}}],"NextToken":"page2"}`))
			return
		}
		tokens = append(tokens, *in.NextToken)
		_, _ = w.Write([]byte(`{"SamplingRuleRecords":[{"SamplingRule":{"RuleName":"Default","Priority":10000,"FixedRate":0,"ReservoirSize":0,"ServiceName":"*","ServiceType":"*","Host":"*","HTTPMethod":"*","URLPath":"*","ResourceARN":"*","Version":1}}],"NextToken":null}`))
	}))
	defer srv.Close()
	s := centralSampler(t, srv.URL, newFakeClock(), make(chan error, 8), nil)
	waitCentral(t, s)
	mu.Lock()
	assert.Equal(t, []string{"<nil>", "page2"}, tokens)
	mu.Unlock()
	assert.Equal(t, 10, countSampled(s, httpParams("GET", "/a", "h"), 10), "rule a: rate 1")
	assert.Equal(t, 0, countSampled(s, httpParams("GET", "/b", "h"), 10),
		"Default with reservoir 0 and rate 0 samples nothing, not even by borrowing")
}

// TestConcurrentSamplingDuringRefresh runs decisions while the poller swaps
// rule sets and targets (meaningful under -race).
func TestConcurrentSamplingDuringRefresh(t *testing.T) {
	f := &fakeProxy{rules: rulesBody}
	f.targets = func(docs []statisticsDocument) string {
		return `{"SamplingTargetDocuments":[{"RuleName":"api","FixedRate":0.5,"ReservoirQuota":1,"ReservoirQuotaTTL":4102444800,"Interval":1}],"LastRuleModification":4102444800}`
	}
	addr, _ := startProxy(t, f)
	clk := newFakeClock()
	s := centralSampler(t, addr, clk, make(chan error, 8), nil)
	waitCentral(t, s)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := httpParams("GET", "/api/x", "h")
			for {
				select {
				case <-stop:
					return
				default:
					s.ShouldSample(p)
				}
			}
		}()
	}
	require.Eventually(t, func() bool {
		clk.Add(time.Second) // the rule's 1 s reporting interval passes
		n := 0
		f.get(func(f *fakeProxy) { n = f.rulesCalls })
		return n >= 3
	}, 30*time.Second, 5*time.Millisecond)
	close(stop)
	wg.Wait()
}
