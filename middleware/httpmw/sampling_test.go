package httpmw_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

// samplingRules samples everything except what one of its rules names; each
// rule matches on one of the request properties the middleware hands the
// X-Ray sampler (method, path, host).
const samplingRules = `{"version": 2,
 "default": {"fixed_target": 0, "rate": 1},
 "rules": [
  {"description": "health", "host": "*", "http_method": "*", "url_path": "/health*", "fixed_target": 0, "rate": 0},
  {"description": "admin host", "host": "admin.example", "http_method": "*", "url_path": "*", "fixed_target": 0, "rate": 0},
  {"description": "deletes", "host": "*", "http_method": "DELETE", "url_path": "*", "fixed_target": 0, "rate": 0}]}`

// TestSamplingRulesSeeTheRequest checks that X-Ray sampling rules match on
// the request although the server span starts without attributes (the
// sampler reads them from the request state in the parent context), that
// the finished span still carries them, and that the sampler-only inputs
// are gone from the request state by the time the handler runs.
func TestSamplingRulesSeeTheRequest(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(samplingRules), 0o600))
	sdk, rec := newSDK(t, func(c *o11y.Config) {
		c.Traces.Sampler = "xray"
		c.Traces.SamplingRulesFile = rules
	})
	var leaked int
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := reqstate.From(r.Context()); st == nil || st.Sampling != nil {
			leaked++
		}
	})))
	for _, tc := range []struct {
		name, method, path, host string
		sampled                  bool
	}{
		{"other path", "GET", "/orders/1", "", true},
		{"path rule", "GET", "/health/live", "", false},
		{"host rule", "GET", "/orders/1", "admin.example:8080", false},
		{"method rule", "DELETE", "/orders/1", "", false},
		{"other method", "POST", "/orders/1", "orders.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec.ResetSpans()
			hdr := map[string]string{}
			if tc.host != "" {
				hdr["Host"] = tc.host
			}
			resp, _ := do(t, nil, tc.method, srv.URL+tc.path, hdr)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			if !tc.sampled {
				assert.Empty(t, spansOfKind(rec, trace.SpanKindServer), "a rule with rate 0 matched: no span exported")
				return
			}
			s := oneServerSpan(t, rec)
			for k, want := range map[string]string{"http.request.method": tc.method, "url.path": tc.path, "url.scheme": "http"} {
				v, ok := attr(s, k)
				if assert.True(t, ok, k) {
					assert.Equal(t, want, v.AsString(), k)
				}
			}
			_, ok := attr(s, "server.address")
			assert.True(t, ok, "server.address")
		})
	}
	assert.Zero(t, leaked, "handlers saw the sampler-only inputs in the request state")
}
