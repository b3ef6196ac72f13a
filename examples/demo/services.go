package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/status"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/middleware/httpmw"
)

// ---- gRPC without protoc: a JSON codec and a hand-written ServiceDesc.

// jsonCodec lets the demo's gRPC service use plain Go structs. Clients pick
// it with grpc.CallContentSubtype("json"); the server finds it by that
// content subtype in the codec registry.
type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)   { return json.Marshal(v) }
func (jsonCodec) Unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
func (jsonCodec) Name() string                    { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

// ReserveRequest and ReserveReply are the messages of demo.Inventory/Reserve.
type ReserveRequest struct {
	OrderID string `json:"order_id"`
}

type ReserveReply struct {
	Reserved  bool   `json:"reserved"`
	Warehouse string `json:"warehouse"`
}

const reserveMethod = "/demo.Inventory/Reserve"

type inventoryServer interface {
	Reserve(context.Context, *ReserveRequest) (*ReserveReply, error)
}

var inventoryDesc = grpc.ServiceDesc{
	ServiceName: "demo.Inventory",
	HandlerType: (*inventoryServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Reserve",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(ReserveRequest)
			if err := dec(in); err != nil {
				return nil, err
			}
			call := func(ctx context.Context, req any) (any, error) {
				return srv.(inventoryServer).Reserve(ctx, req.(*ReserveRequest))
			}
			if ic == nil {
				return call(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: reserveMethod}, call)
		},
	}},
	Metadata: "examples/demo",
}

// inventory is the gRPC service: a little latency, and now and then the
// warehouse is "offline" (Unavailable, a fault).
type inventory struct {
	sdk         *o11y.SDK
	failPercent int
}

func (s *inventory) Reserve(ctx context.Context, req *ReserveRequest) (*ReserveReply, error) {
	time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Microsecond)
	if rand.IntN(100) < s.failPercent {
		s.sdk.Logger().WarnContext(ctx, "warehouse offline", "order_id", req.OrderID)
		return nil, status.Error(codes.Unavailable, "warehouse offline")
	}
	s.sdk.Logger().InfoContext(ctx, "stock reserved", "order_id", req.OrderID, "warehouse", "eu-1")
	return &ReserveReply{Reserved: true, Warehouse: "eu-1"}, nil
}

// grpcInventory is the orders service's orders.Inventory over gRPC.
type grpcInventory struct{ conn *grpc.ClientConn }

func (g grpcInventory) Reserve(ctx context.Context, orderID string) error {
	var reply ReserveReply
	if err := g.conn.Invoke(ctx, reserveMethod, &ReserveRequest{OrderID: orderID}, &reply, grpc.CallContentSubtype("json")); err != nil {
		return err
	}
	if !reply.Reserved {
		return errors.New("not reserved")
	}
	return nil
}

// ---- The gateway: a small HTTP front door that calls orders over HTTP.

func newGateway(sdk *o11y.SDK, ordersURL string) http.Handler {
	client := httpmw.Client(sdk, &http.Client{Timeout: 5 * time.Second}, httpmw.WithPeerService("orders"))
	proxy := func(method, path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			target := path
			if id := r.PathValue("id"); id != "" {
				target += id
			}
			req, err := http.NewRequestWithContext(r.Context(), method, ordersURL+target, r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
			resp, err := client.Do(req)
			if err != nil {
				sdk.Logger().ErrorContext(r.Context(), "orders unreachable", "error", err.Error())
				http.Error(w, `{"error":"orders unreachable"}`, http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			code := resp.StatusCode
			if code >= 500 {
				// The gateway reports its upstream's failure as 502.
				sdk.Logger().WarnContext(r.Context(), "orders failed", "upstream_status", code)
				code = http.StatusBadGateway
			}
			w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
			w.WriteHeader(code)
			_, _ = io.Copy(w, io.LimitReader(resp.Body, 64<<10))
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/orders/{id}", proxy(http.MethodGet, "/orders/"))
	mux.HandleFunc("POST /api/checkout", proxy(http.MethodPost, "/checkout"))
	mux.HandleFunc("GET /api/boom", proxy(http.MethodGet, "/boom"))
	return httpmw.New(sdk)(mux)
}
