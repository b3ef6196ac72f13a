package otlpexport

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exportMethod is the OTLP trace service's one RPC.
const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

type grpcTransport struct {
	conn  *grpc.ClientConn
	md    metadata.MD
	calls []grpc.CallOption
}

func newGRPC(s *settings) (*grpcTransport, error) {
	creds := insecure.NewCredentials()
	if s.tls != nil {
		creds = credentials.NewTLS(s.tls)
	}
	// grpc.NewClient does not connect; the first call does, in the
	// background of that call's context.
	conn, err := grpc.NewClient(s.target,
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(s.userAgent),
	)
	if err != nil {
		return nil, fmt.Errorf("otlpexport: %w", err)
	}
	t := &grpcTransport{conn: conn, calls: []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}}
	if s.gzip {
		t.calls = append(t.calls, grpc.UseCompressor(gzip.Name))
	}
	if len(s.headers) > 0 {
		t.md = metadata.New(s.headers)
	}
	return t, nil
}

// rawMessage carries already-encoded protobuf bytes through gRPC.
type rawMessage struct{ b []byte }

// rawCodec passes rawMessage bytes through unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*rawMessage)
	if !ok {
		return nil, fmt.Errorf("otlpexport: cannot marshal %T", v)
	}
	// The bytes stay owned by the exporter; gRPC is done with them when
	// the call returns, before the exporter reuses the buffer.
	return mem.BufferSlice{mem.SliceBuffer(m.b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*rawMessage)
	if !ok {
		return fmt.Errorf("otlpexport: cannot unmarshal into %T", v)
	}
	m.b = data.Materialize()
	return nil
}

// Name is empty so the content type is plain "application/grpc", as the
// upstream exporter sends (a forced codec's name becomes the content
// subtype: "proto" would send the equivalent "application/grpc+proto").
func (rawCodec) Name() string { return "" }

func (t *grpcTransport) send(ctx context.Context, req []byte) ([]byte, error) {
	if t.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, t.md)
	}
	in := rawMessage{b: req}
	var out rawMessage
	err := t.conn.Invoke(ctx, exportMethod, &in, &out, t.calls...)
	if err != nil {
		return nil, classifyGRPC(err)
	}
	return out.b, nil
}

// classifyGRPC marks the status codes the OTLP specification lists as
// retryable; RESOURCE_EXHAUSTED only when the server sent RetryInfo.
func classifyGRPC(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange,
		codes.Unavailable, codes.DataLoss:
		return &retryError{err: err, after: retryDelay(st)}
	case codes.ResourceExhausted:
		if d := retryDelay(st); d > 0 {
			return &retryError{err: err, after: d}
		}
	}
	return err
}

// retryDelay is the RetryInfo delay in a status, if any (capped at a
// minute: a bigger value is not worth holding a batch for).
func retryDelay(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return min(ri.GetRetryDelay().AsDuration(), time.Minute)
		}
	}
	return 0
}

func (t *grpcTransport) close() error { return t.conn.Close() }
