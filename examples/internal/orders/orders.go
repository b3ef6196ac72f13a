// Package orders is the example "orders" service shared by examples/ecs,
// examples/apprunner and examples/demo. It shows the SDK in a realistic
// service: server middleware, a custom child span with an X-Ray annotation,
// an instrumented outgoing call, request-scoped logs and a graceful
// shutdown that flushes every signal.
//
// The service contract (the examples' end-to-end tests rely on it):
//
//   - GET /healthz → 200, never traced, counted or access-logged;
//   - GET /orders/{id} → 200 JSON for a numeric id, 404 otherwise;
//   - POST /checkout → a child span "charge-card" annotated with order_id,
//     then (when an inventory is configured) one downstream call, then
//     (when a queue is configured) one "order placed" message to SQS for
//     the fulfilment worker; 200, or 502 when the downstream or the queue
//     fails;
//   - GET /boom → the handler panics; the middleware answers 500.
package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/logging"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/tracing"
)

// HealthPath is the health-check route (ECS container health check, ALB
// target group, App Runner HTTP health check).
const HealthPath = "/healthz"

// ChargeSpan is the name of the custom child span POST /checkout starts.
const ChargeSpan = "charge-card"

// Inventory reserves stock for an order in a downstream service.
type Inventory interface {
	Reserve(ctx context.Context, orderID string) error
}

// OrderQueue hands a placed order to fulfilment
// (examples/internal/fulfilment.Publisher sends it to SQS).
type OrderQueue interface {
	Publish(ctx context.Context, orderID string) error
}

// Options configures the service handler.
type Options struct {
	// SDK is the o11y handle; nil means o11y.Default().
	SDK *o11y.SDK
	// Inventory, when set, is called by POST /checkout.
	Inventory Inventory
	// Queue, when set, receives every confirmed order.
	Queue OrderQueue
	// ChargeLatency simulates the card processor's latency inside the
	// charge-card span. Default 0.
	ChargeLatency time.Duration
}

// NewHandler returns the service's routes wrapped in the SDK's HTTP
// middleware.
func NewHandler(opts Options) http.Handler {
	s := &service{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, s.health)
	mux.HandleFunc("GET /orders/{id}", s.getOrder)
	mux.HandleFunc("POST /checkout", s.checkout)
	mux.HandleFunc("GET /boom", s.boom)
	// Hand this SDK's logger to logging.FromContext. With a single SDK per
	// process it is what FromContext falls back to anyway; binding it
	// explicitly keeps the demo's services (several SDKs in one process)
	// apart.
	sdk := opts.SDK
	if sdk == nil {
		sdk = o11y.Default()
	}
	logger := sdk.Logger()
	instrumented := httpmw.New(sdk)(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instrumented.ServeHTTP(w, r.WithContext(logging.NewContext(r.Context(), logger)))
	})
}

type service struct {
	opts Options
	seq  atomic.Uint64
}

func (s *service) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok\n")
}

type order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Items  int    `json:"items"`
}

func (s *service) getOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !isDigits(id) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "order not found"})
		return
	}
	n, _ := strconv.Atoi(id[max(0, len(id)-3):])
	writeJSON(w, http.StatusOK, order{ID: id, Status: "shipped", Items: 1 + n%5})
}

type checkoutRequest struct {
	OrderID string `json:"order_id"`
}

type checkoutResponse struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	TraceID string `json:"xray_trace_id,omitempty"`
}

func (s *service) checkout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	log := logging.FromContext(ctx)

	var req checkoutRequest
	if r.Body != nil {
		// A missing or malformed body is fine: the service makes up an id.
		_ = json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&req)
	}
	id := req.OrderID
	if id == "" || len(id) > 64 {
		id = strconv.FormatUint(s.seq.Add(1), 10)
	}

	// A custom child span: an X-Ray subsegment of this request's segment,
	// with order_id as an annotation (searchable: annotation.order_id = "…").
	cctx, span := tracing.Start(ctx, ChargeSpan)
	tracing.Annotate(cctx, "order_id", id)
	if d := s.opts.ChargeLatency; d > 0 {
		time.Sleep(d)
	}
	span.End()
	log.Info("card charged", "order_id", id)

	if inv := s.opts.Inventory; inv != nil {
		if err := inv.Reserve(ctx, id); err != nil {
			tracing.RecordError(ctx, err)
			log.Warn("inventory reservation failed", "order_id", id, "error", err.Error())
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": "inventory unavailable", "order_id": id})
			return
		}
	}
	if q := s.opts.Queue; q != nil {
		if err := q.Publish(ctx, id); err != nil {
			tracing.RecordError(ctx, err)
			log.Warn("order not queued for fulfilment", "order_id", id, "error", err.Error())
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": "fulfilment queue unavailable", "order_id": id})
			return
		}
		log.Info("order placed", "order_id", id)
	}
	writeJSON(w, http.StatusOK, checkoutResponse{OrderID: id, Status: "confirmed", TraceID: tracing.XRayTraceID(ctx)})
}

func (s *service) boom(http.ResponseWriter, *http.Request) {
	panic("boom: simulated handler panic")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// HTTPInventory calls GET <baseURL>/inventory?order_id=… through the SDK's
// instrumented client: a CLIENT span (an X-Ray subsegment named after the
// downstream host, or peer) whose id the downstream receives as the Parent
// in X-Amzn-Trace-Id.
func HTTPInventory(sdk *o11y.SDK, baseURL, peer string) Inventory {
	var opts []httpmw.ClientOption
	if peer != "" {
		opts = append(opts, httpmw.WithPeerService(peer))
	}
	return &httpInventory{
		base:   strings.TrimRight(baseURL, "/"),
		client: httpmw.Client(sdk, &http.Client{Timeout: 5 * time.Second}, opts...),
	}
}

type httpInventory struct {
	base   string
	client *http.Client
}

func (h *httpInventory) Reserve(ctx context.Context, orderID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/inventory?order_id="+orderIDQuery(orderID), nil)
	if err != nil {
		return err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("inventory: %s", resp.Status)
	}
	return nil
}

func orderIDQuery(id string) string {
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
