package middleware_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/stats"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/middleware/httpmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// service is one instrumented service of the chain: its own SDK, its own
// log output, and done, which receives a value once a request has been
// completely handled (span ended, access line written).
type service struct {
	name string
	rec  *o11ytest.Recorder
	done chan struct{}
}

func newService(t *testing.T, name string) (*o11y.SDK, *service) {
	sdk, rec := o11ytest.New(t, func(c *o11y.Config) { c.ServiceName = name })
	return sdk, &service{name: name, rec: rec, done: make(chan struct{}, 4)}
}

// finished signals s.done after h, the middleware, has returned.
func (s *service) finished(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { s.done <- struct{}{} }()
		h.ServeHTTP(w, r)
	})
}

// endSignal is a stats.Handler registered after grpcmw's: when it sees an
// RPC end, grpcmw has ended its span and written its access line.
type endSignal struct{ done chan<- struct{} }

func (e endSignal) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }
func (e endSignal) HandleRPC(_ context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.End); ok {
		e.done <- struct{}{}
	}
}
func (e endSignal) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (e endSignal) HandleConn(context.Context, stats.ConnStats)                       {}

// pricing is the gRPC service of the chain: it calls the next HTTP service.
type pricing struct {
	testpb.UnimplementedTestServiceServer
	log    *slog.Logger
	client *http.Client
	next   string
}

func (p pricing) UnaryCall(ctx context.Context, _ *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	p.log.InfoContext(ctx, "pricing: asking inventory")
	if err := get(ctx, p.client, p.next); err != nil {
		return nil, err
	}
	return &testpb.SimpleResponse{}, nil
}

func get(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// TestRequestIDSurvivesEveryHop: edge (HTTP) → checkout (HTTP) → pricing
// (gRPC) → inventory (HTTP), real servers on loopback, each with its own SDK
// and log output. Every log line of every service, application lines and
// access lines alike, carries the same request_id and the same trace id,
// whether the caller sent an id (one with characters only gRPC ids used to
// be allowed) or the edge generated it.
func TestRequestIDSurvivesEveryHop(t *testing.T) {
	// inventory: HTTP, the end of the chain.
	invSDK, inventory := newService(t, "inventory")
	invMux := http.NewServeMux()
	invMux.HandleFunc("GET /stock/{sku}", func(w http.ResponseWriter, r *http.Request) {
		invSDK.Logger().InfoContext(r.Context(), "inventory: counting")
		_, _ = io.WriteString(w, "7")
	})
	invSrv := httptest.NewServer(inventory.finished(httpmw.New(invSDK)(invMux)))
	defer invSrv.Close()

	// pricing: gRPC, calls inventory through the instrumented HTTP client.
	priSDK, pricingSvc := newService(t, "pricing")
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gsrv := grpc.NewServer(append(grpcmw.ServerOptions(priSDK), grpc.StatsHandler(endSignal{pricingSvc.done}))...)
	testpb.RegisterTestServiceServer(gsrv, pricing{log: priSDK.Logger(), client: httpmw.Client(priSDK, nil), next: invSrv.URL + "/stock/42"})
	go func() { _ = gsrv.Serve(lis) }()
	defer gsrv.Stop()

	// checkout: HTTP, calls pricing through the instrumented gRPC client.
	coSDK, checkout := newService(t, "checkout")
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcmw.NewClientHandler(coSDK, grpcmw.WithPeerService("pricing"))))
	require.NoError(t, err)
	defer conn.Close()
	pricingClient := testpb.NewTestServiceClient(conn)
	coMux := http.NewServeMux()
	coMux.HandleFunc("POST /checkout", func(w http.ResponseWriter, r *http.Request) {
		coSDK.Logger().InfoContext(r.Context(), "checkout: pricing the cart")
		if _, err := pricingClient.UnaryCall(r.Context(), &testpb.SimpleRequest{}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	})
	coSrv := httptest.NewServer(checkout.finished(httpmw.New(coSDK)(coMux)))
	defer coSrv.Close()

	// edge: HTTP, calls checkout through the instrumented HTTP client.
	edgeSDK, edge := newService(t, "edge")
	edgeClient := httpmw.Client(edgeSDK, nil, httpmw.WithPeerService("checkout"))
	edgeMux := http.NewServeMux()
	edgeMux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		edgeSDK.Logger().InfoContext(r.Context(), "edge: placing order")
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, coSrv.URL+"/checkout", nil)
		resp, err := edgeClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	})
	edgeSrv := httptest.NewServer(edge.finished(httpmw.New(edgeSDK)(edgeMux)))
	defer edgeSrv.Close()

	services := []*service{edge, checkout, pricingSvc, inventory}
	generated := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, tc := range []struct{ name, sent string }{
		{"caller's id", "order-7/YWJj+ZA==@eu:1"},
		{"generated at the edge", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := map[*service]int{}
			for _, s := range services {
				before[s] = len(s.rec.Logs())
			}
			req, _ := http.NewRequest(http.MethodPost, edgeSrv.URL+"/orders", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-Id", tc.sent)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			id := resp.Header.Get("X-Request-Id")
			if tc.sent != "" {
				require.Equal(t, tc.sent, id)
			} else {
				require.Regexp(t, generated, id)
			}
			for _, s := range services {
				select {
				case <-s.done:
				case <-time.After(10 * time.Second): // turns a hang into a failure
					t.Fatalf("%s never finished", s.name)
				}
			}

			var traceID any
			for _, s := range services {
				lines := s.rec.Logs()[before[s]:]
				var access, app int
				for _, l := range lines {
					assert.Equal(t, id, l["request_id"], "%s: %v", s.name, l)
					if traceID == nil {
						traceID = l["xray_trace_id"]
					}
					assert.Equal(t, traceID, l["xray_trace_id"], "%s: %v", s.name, l)
					if l["msg"] == "access" {
						access++
					} else {
						app++
					}
				}
				assert.Equal(t, 1, access, "%s: one access line", s.name)
				assert.Equal(t, 1, app, "%s: one application line", s.name)
			}
			assert.Regexp(t, `^1-[0-9a-f]{8}-[0-9a-f]{24}$`, traceID)
		})
	}
}
