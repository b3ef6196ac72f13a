package grpcmw_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"

	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/middleware/grpcmw"
	"github.com/o11y-go/o11y/o11ytest"
)

// fakeStream captures what the recovery interceptor sends as header metadata.
type fakeStream struct {
	method string
	header metadata.MD
}

func (f *fakeStream) Method() string { return f.method }
func (f *fakeStream) SetHeader(md metadata.MD) error {
	f.header = metadata.Join(f.header, md)
	return nil
}
func (f *fakeStream) SendHeader(md metadata.MD) error { return f.SetHeader(md) }
func (f *fakeStream) SetTrailer(metadata.MD) error    { return nil }

var (
	respHeaderRE = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;Parent=[0-9a-f]{16})?(;Sampled=[01])?$`)
	requestIDRE  = regexp.MustCompile(`^[A-Za-z0-9._:/+=@-]{1,128}$`)
)

// FuzzServerMetadata feeds arbitrary incoming metadata and method names
// through the server handler and the unary interceptor: nothing panics, the
// span ends, and what goes back to the caller is well-formed.
func FuzzServerMetadata(f *testing.F) {
	f.Add("/pkg.S/M", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?", "", "req-1", "host:443")
	f.Add("/pkg.S/M", "Root=1-5759e988-bd862e3fe1be46a994272793", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "bad id", "")
	f.Add("nomethod", "Root=;;;Sampled=?;", "garbage", strings.Repeat("x", 200), "[::1]:x")
	f.Add("/grpc.health.v1.Health/Check", "Sampled=?", "", "", "h")
	f.Add("panic", "Root=1-5759e988-bd862e3fe1be46a994272793; Sampled=? ", "", "", "")
	sdk, rec := o11ytest.New(f)
	h := grpcmw.NewServerHandler(sdk)
	unary := grpcmw.UnaryServerRecovery(sdk)
	f.Fuzz(func(t *testing.T, method, xray, traceparent, requestID, authority string) {
		md := metadata.MD{}
		for k, v := range map[string]string{"x-amzn-trace-id": xray, "traceparent": traceparent, "x-request-id": requestID, ":authority": authority} {
			if v != "" {
				md[k] = []string{v}
			}
		}
		ctx := metadata.NewIncomingContext(context.Background(), md)
		ctx = h.TagRPC(ctx, &stats.RPCTagInfo{FullMethodName: method})
		now := time.Now()
		h.HandleRPC(ctx, &stats.InHeader{FullMethod: method, Header: md})
		h.HandleRPC(ctx, &stats.Begin{BeginTime: now})
		fs := &fakeStream{method: method}
		sctx := grpc.NewContextWithServerTransportStream(ctx, fs)
		_, err := unary(sctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
			rid := reqstate.RequestID(ctx)
			if skipped := grpcmw.DefaultSkip(method); skipped && rid != "" || !skipped && !requestIDRE.MatchString(rid) {
				t.Errorf("request id %q", rid) // a skipped RPC is left alone
			}
			if method == "panic" {
				panic("fuzz")
			}
			return nil, nil
		})
		h.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: time.Now(), Error: err})

		if grpcmw.DefaultSkip(method) {
			if len(fs.header) != 0 {
				t.Errorf("filtered RPC sent header %v", fs.header)
			}
			return
		}
		if v := fs.header.Get("x-amzn-trace-id"); len(v) != 1 || !respHeaderRE.MatchString(v[0]) {
			t.Errorf("x-amzn-trace-id response %q for %q", v, xray)
		} else if strings.Contains(v[0], "Sampled") && !strings.Contains(xray, "Sampled=") ||
			strings.Contains(v[0], "Parent") && !strings.Contains(xray, "Parent=") {
			t.Errorf("Sampled or Parent in %q for %q", v[0], xray)
		}
		if v := fs.header.Get("x-request-id"); len(v) != 1 || !requestIDRE.MatchString(v[0]) {
			t.Errorf("x-request-id response %q", v)
		}
		if len(rec.Spans()) > 1000 {
			rec.ResetSpans()
		}
	})
}
