package otlpexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// deadlineCollector is a real grpc-go OTLP trace service that records the
// deadline and metadata of each call.
type deadlineCollector struct {
	coltracepb.UnimplementedTraceServiceServer
	calls    atomic.Int32
	deadline atomic.Int64 // remaining time at the last call, ns
	md       atomic.Pointer[metadata.MD]
	answer   func(*coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error)
}

func (c *deadlineCollector) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.calls.Add(1)
	if dl, ok := ctx.Deadline(); ok {
		c.deadline.Store(int64(time.Until(dl)))
	}
	md, _ := metadata.FromIncomingContext(ctx)
	c.md.Store(&md)
	return c.answer(req)
}

func serveGRPC(t *testing.T, c *deadlineCollector, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer(opts...)
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestGRPCOverTLS: a grpc-go server with TLS, trusted through
// OTEL_EXPORTER_OTLP_CERTIFICATE; the deadline travels as grpc-timeout.
func TestGRPCOverTLS(t *testing.T) {
	// httptest's certificate is valid for 127.0.0.1.
	hs := httptest.NewUnstartedServer(http.NotFoundHandler())
	hs.StartTLS()
	defer hs.Close()
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600))

	c := &deadlineCollector{answer: func(req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
		return &coltracepb.ExportTraceServiceResponse{}, nil
	}}
	addr := serveGRPC(t, c, grpc.Creds(credentials.NewServerTLSFromCert(&hs.TLS.Certificates[0])))

	// Untrusted: a certificate error, not retried.
	e := newExporter(t, Options{Endpoint: "https://" + addr})
	err := e.ExportSpans(context.Background(), spans(t, 1))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	assert.Equal(t, int32(0), c.calls.Load())

	e = newExporter(t, Options{Endpoint: "https://" + addr, Getenv: env(map[string]string{
		"OTEL_EXPORTER_OTLP_CERTIFICATE": certFile, "OTEL_EXPORTER_OTLP_TIMEOUT": "7000"})})
	require.NoError(t, e.ExportSpans(context.Background(), spans(t, 3)))
	assert.Equal(t, int32(1), c.calls.Load())
	left := time.Duration(c.deadline.Load())
	assert.True(t, left > 0 && left <= 7*time.Second, "server deadline %v", left)
	md := *c.md.Load()
	assert.Contains(t, md.Get("user-agent")[0], userAgent)
}

// TestGRPCCompressedResponse: with gzip the grpc-go server compresses its
// answer too; the partial success inside is still read.
func TestGRPCCompressedResponse(t *testing.T) {
	c := &deadlineCollector{answer: func(req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
		n := len(req.ResourceSpans[0].ScopeSpans[0].Spans)
		return &coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: int64(n), ErrorMessage: strings.Repeat("too old ", 100)}}, nil
	}}
	addr := serveGRPC(t, c)
	e := newExporter(t, Options{Endpoint: "http://" + addr, Getenv: env(map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "gzip"})})
	err := e.ExportSpans(context.Background(), spans(t, 4))
	var ps *PartialSuccess
	require.ErrorAs(t, err, &ps)
	assert.Equal(t, int64(4), ps.Rejected)
	assert.True(t, strings.HasPrefix(ps.Message, "too old too old"))
}

// TestGRPCStatusMessage: a grpc-go status message (percent-encoded on the
// wire) comes back readable with the code's name.
func TestGRPCStatusMessage(t *testing.T) {
	c := &deadlineCollector{answer: func(*coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
		return nil, status.Error(codes.PermissionDenied, "tenant 50% over quota: ünïcode")
	}}
	addr := serveGRPC(t, c)
	e := newExporter(t, Options{Endpoint: "http://" + addr})
	err := e.ExportSpans(context.Background(), spans(t, 1))
	require.Error(t, err)
	assert.Equal(t, "otlpexport: collector answered gRPC status PermissionDenied: tenant 50% over quota: ünïcode", err.Error())
	assert.Equal(t, int32(1), c.calls.Load(), "PermissionDenied is final")
}

// TestGRPCNonGRPCAnswers: an HTTP/2 server that is not gRPC (a proxy, a
// wrong port) maps to gRPC codes as gRPC clients do.
func TestGRPCNonGRPCAnswers(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantCalls int32
		wantErr   string
	}{
		{"503 is Unavailable, retried", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}, 5, "Unavailable"},
		{"404 is Unimplemented, final", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, 1, "Unimplemented"},
		{"200 that is not gRPC", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>"))
		}, 1, "not gRPC"},
		{"gRPC without a status is Internal, final", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			_, _ = w.Write([]byte{0, 0, 0, 0, 0})
		}, 1, "without grpc-status"},
		{"gzip-compressed answer", func(w http.ResponseWriter, r *http.Request) {
			var z bytes.Buffer
			zw := gzip.NewWriter(&z)
			b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
				RejectedSpans: 1, ErrorMessage: "compressed"}})
			_, _ = zw.Write(b)
			_ = zw.Close()
			w.Header().Set("Content-Type", "application/grpc+proto")
			w.Header().Set("Grpc-Encoding", "gzip")
			w.Header().Set("Trailer", "Grpc-Status")
			_, _ = w.Write(append([]byte{1, 0, 0, 0, byte(z.Len())}, z.Bytes()...))
			w.Header().Set("Grpc-Status", "0")
		}, 1, "rejected 1 spans: compressed"},
		{"compressed answer without grpc-encoding", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			_, _ = w.Write([]byte{1, 0, 0, 0, 1, 0})
		}, 1, "compressed response"},
		{"trailers-only OK with an empty body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "0")
		}, 1, ""},
		{"oversized response message", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Trailer", "Grpc-Status")
			_, _ = w.Write([]byte{0, 0xff, 0xff, 0xff, 0xff})
			w.Header().Set("Grpc-Status", "0")
		}, 1, "over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				assert.Equal(t, "application/grpc", r.Header.Get("Content-Type"))
				assert.Equal(t, "trailers", r.Header.Get("Te"))
				assert.Equal(t, exportMethod, r.URL.Path)
				assert.Equal(t, 2, r.ProtoMajor, "HTTP/2 with prior knowledge")
				tt.handler(w, r)
			})
			srv := httptest.NewUnstartedServer(h)
			srv.Config.Protocols = new(http.Protocols)
			srv.Config.Protocols.SetUnencryptedHTTP2(true)
			srv.Start()
			defer srv.Close()
			e := newExporter(t, Options{Endpoint: srv.URL})
			err := e.ExportSpans(context.Background(), spans(t, 1))
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			assert.Equal(t, tt.wantCalls, calls.Load())
		})
	}
}

func TestGRPCTimeout(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                          "1n",
		-time.Second:               "1n",
		1500 * time.Nanosecond:     "1500n",
		10 * time.Second:           "10000000u",
		100 * time.Second:          "100000m",
		time.Duration(1<<62 - 1):   "76861434M",
		99999999 * time.Nanosecond: "99999999n",
	} {
		assert.Equal(t, want, grpcTimeout(d), d.String())
	}
}

func statusDetails(t testing.TB, st *status.Status) string {
	b, err := proto.Marshal(st.Proto())
	require.NoError(t, err)
	return base64.RawStdEncoding.EncodeToString(b)
}

func TestStatusRetryDelay(t *testing.T) {
	withDelay := func(d *durationpb.Duration) string {
		st, err := status.New(codes.ResourceExhausted, "full").WithDetails(
			&errdetails.ErrorInfo{Reason: "x"}, &errdetails.RetryInfo{RetryDelay: d})
		require.NoError(t, err)
		return statusDetails(t, st)
	}
	other, err := anypb.New(&errdetails.ErrorInfo{Reason: "y"})
	require.NoError(t, err)
	padded := base64.StdEncoding.EncodeToString(func() []byte {
		b, _ := proto.Marshal(status.New(codes.Unavailable, "x").Proto())
		return b
	}())
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{"none", "", 0},
		{"retry info", withDelay(durationpb.New(1500 * time.Millisecond)), 1500 * time.Millisecond},
		{"capped at a minute", withDelay(durationpb.New(time.Hour)), time.Minute},
		{"negative ignored", withDelay(&durationpb.Duration{Seconds: -3}), 0},
		{"other details only", func() string {
			st := status.New(codes.Unavailable, "x").Proto()
			st.Details = []*anypb.Any{other}
			return statusDetails(t, status.FromProto(st))
		}(), 0},
		{"padded base64 without details", padded, 0},
		{"not base64", "!!!", 0},
		{"truncated", withDelay(durationpb.New(time.Second))[:10], 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, statusRetryDelay(tt.in))
		})
	}
}

// FuzzStatusRetryDelay: grpc-status-details-bin is untrusted input.
func FuzzStatusRetryDelay(f *testing.F) {
	st, _ := status.New(codes.ResourceExhausted, "full").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Second)})
	b, _ := proto.Marshal(st.Proto())
	f.Add(b)
	f.Add([]byte{0x1a, 0x05, 0x0a, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		d := statusRetryDelay(base64.RawStdEncoding.EncodeToString(b))
		if d < 0 || d > time.Minute {
			t.Fatalf("delay %v out of [0, 1m]", d)
		}
	})
}
