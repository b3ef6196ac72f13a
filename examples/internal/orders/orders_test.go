package orders

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/o11ytest"
)

type fakeInventory struct{ err error }

func (f fakeInventory) Reserve(context.Context, string) error { return f.err }

// newRecorder returns an in-memory SDK installed as the global one, because
// the service's custom span uses tracing.Start (the global provider).
func newRecorder(t *testing.T) (*o11y.SDK, *o11ytest.Recorder) {
	return o11ytest.New(t, func(c *o11y.Config) { c.DisableGlobals = false; c.ServiceName = "orders-test" })
}

func TestRoutes(t *testing.T) {
	tests := []struct {
		name       string
		inv        Inventory
		method     string
		path       string
		body       string
		status     int
		bodyHas    string
		spanName   string // "" = no span
		chargeSpan bool
	}{
		{"health", nil, "GET", "/healthz", "", 200, "ok", "", false},
		{"order", nil, "GET", "/orders/123", "", 200, `"id":"123"`, "GET /orders/{id}", false},
		{"order not digits", nil, "GET", "/orders/12a", "", 404, "not found", "GET /orders/{id}", false},
		{"order too long", nil, "GET", "/orders/12345678901234567890", "", 404, "not found", "GET /orders/{id}", false},
		{"checkout no downstream", nil, "POST", "/checkout", `{"order_id":"9"}`, 200, `"order_id":"9"`, "POST /checkout", true},
		{"checkout bad body", nil, "POST", "/checkout", `{nope`, 200, `"status":"confirmed"`, "POST /checkout", true},
		{"checkout downstream ok", fakeInventory{}, "POST", "/checkout", `{"order_id":"10"}`, 200, "confirmed", "POST /checkout", true},
		{"checkout downstream fails", fakeInventory{errors.New("down")}, "POST", "/checkout", `{"order_id":"11"}`, 502, "inventory unavailable", "POST /checkout", true},
		{"boom", nil, "GET", "/boom", "", 500, "", "GET /boom", false},
		{"wrong method", nil, "GET", "/checkout", "", 405, "", "GET unknown_route", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sdk, rec := newRecorder(t)
			h := NewHandler(Options{SDK: sdk, Inventory: tc.inv})
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if !strings.Contains(w.Body.String(), tc.bodyHas) {
				t.Errorf("body %q lacks %q", w.Body.String(), tc.bodyHas)
			}
			spans := rec.Spans()
			var server, charge *trace.SpanContext
			var chargeAttrs []attribute.KeyValue
			for _, s := range spans {
				switch {
				case s.SpanKind == trace.SpanKindServer:
					if s.Name != tc.spanName {
						t.Errorf("server span %q, want %q", s.Name, tc.spanName)
					}
					sc := s.SpanContext
					server = &sc
				case s.Name == ChargeSpan:
					sc := s.Parent
					charge = &sc
					chargeAttrs = s.Attributes
				}
			}
			if (server != nil) != (tc.spanName != "") {
				t.Fatalf("server span present %v, want %v (%d spans)", server != nil, tc.spanName != "", len(spans))
			}
			if (charge != nil) != tc.chargeSpan {
				t.Fatalf("charge-card span present %v, want %v", charge != nil, tc.chargeSpan)
			}
			if charge != nil {
				if charge.SpanID() != server.SpanID() {
					t.Errorf("charge-card is not a child of the server span")
				}
				found := false
				for _, a := range chargeAttrs {
					if a.Key == "order_id" && a.Value.AsString() != "" {
						found = true
					}
				}
				if !found {
					t.Errorf("charge-card attributes %v lack order_id", chargeAttrs)
				}
				logged := false
				for _, l := range rec.Logs() {
					if l["msg"] == "card charged" && l["service"] == "orders-test" && l["xray_trace_id"] != nil {
						logged = true
					}
				}
				if !logged {
					t.Errorf("no correlated \"card charged\" log line: %v", rec.Logs())
				}
			}
		})
	}
}

func TestHTTPInventory(t *testing.T) {
	sdk, _ := newRecorder(t)
	var gotPath, gotHeader string
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotHeader = r.URL.String(), r.Header.Get("X-Amzn-Trace-Id")
		if r.URL.Query().Get("order_id") == "bad" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer down.Close()
	inv := HTTPInventory(sdk, down.URL+"/", "inventory")
	ctx, span := sdk.Tracer().Start(context.Background(), "parent")
	defer span.End()
	if err := inv.Reserve(ctx, "a1&x=<y>"); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/inventory?order_id=a1xy" {
		t.Errorf("downstream got %q: the order id must be reduced to a safe query value", gotPath)
	}
	if !strings.Contains(gotHeader, "Root=") {
		t.Errorf("downstream got no X-Amzn-Trace-Id (%q)", gotHeader)
	}
	if err := inv.Reserve(ctx, "bad"); err == nil {
		t.Errorf("503 from the downstream is not an error")
	}
}

func TestIsDigits(t *testing.T) {
	for in, want := range map[string]bool{"": false, "0": true, "123": true, "1a": false, "-1": false, "1234567890123456789": true, "12345678901234567890": false} {
		if got := isDigits(in); got != want {
			t.Errorf("isDigits(%q) = %v", in, got)
		}
	}
}
