package httpmw

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/internal/redact"
	"github.com/o11y-go/o11y/internal/reqstate"
	"github.com/o11y-go/o11y/internal/version"
)

// Transport returns an http.RoundTripper that traces every request through
// base (nil means [http.DefaultTransport]) with a CLIENT span, an X-Ray
// subsegment with namespace "remote" named after the host or
// [WithPeerService]. It injects X-Amzn-Trace-Id and traceparent (the SDK's
// propagators) into a clone of the request: the caller's request is never
// modified. The span ends when the response body is read to EOF or closed,
// or when the round trip fails. sdk nil means [o11y.Default] as it is when
// Transport is called.
func Transport(sdk *o11y.SDK, base http.RoundTripper, opts ...ClientOption) http.RoundTripper {
	if sdk == nil {
		sdk = o11y.Default()
	}
	if base == nil {
		base = http.DefaultTransport
	}
	t := &transport{base: base, tracer: version.Tracer(sdk.TracerProvider(), scopeName), prop: sdk.Propagator()}
	t.cfg.reqIDHeader = DefaultRequestIDHeader
	for _, o := range opts {
		if o != nil {
			o.applyClient(&t.cfg)
		}
	}
	return t
}

// Client returns an *http.Client using Transport(sdk, base.Transport, opts...),
// with base's other settings (nil base means a zero http.Client).
func Client(sdk *o11y.SDK, base *http.Client, opts ...ClientOption) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.Transport = Transport(sdk, c.Transport, opts...)
	return c
}

type transport struct {
	base   http.RoundTripper
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	cfg    clientConfig
}

var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Hostname()
	if host == "" {
		host = hostOnly(r.Host)
	}
	name := t.cfg.peerService
	if name == "" {
		name = host
	}
	if name == "" {
		name = "http"
	}
	method := normMethod(r.Method)
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs,
		attribute.String("http.request.method", method),
		attribute.String("server.address", host),
		attribute.String("url.full", redact.URL(r.URL)),
	)
	if p := port(r.URL); p > 0 {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	if t.cfg.peerService != "" {
		attrs = append(attrs, attribute.String("peer.service", t.cfg.peerService))
	}
	if method == methodOther {
		attrs = append(attrs, attribute.String("http.request.method_original", clip(r.Method, 32)))
	}
	ctx, span := t.tracer.Start(r.Context(), name, clientKind, trace.WithAttributes(attrs...))

	r2 := r.Clone(ctx) // RoundTrippers must not modify the caller's request
	t.prop.Inject(ctx, propagation.HeaderCarrier(r2.Header))
	// Forward the request id so every service's log lines for this request
	// share request_id (the callee's middleware accepts a valid incoming id).
	// (An id set on the request by the application wins.)
	if id := reqstate.RequestID(ctx); id != "" && r2.Header.Get(t.cfg.reqIDHeader) == "" {
		r2.Header.Set(t.cfg.reqIDHeader, id)
	}

	resp, err := t.base.RoundTrip(r2)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "request failed")
		span.End()
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	if resp.Body == nil || resp.Body == http.NoBody || r.Method == http.MethodHead {
		span.End()
		return resp, nil
	}
	if _, ok := resp.Body.(io.Writer); ok {
		// 101 Switching Protocols: the body is the connection. Keep its
		// io.Writer and end the span now; the upgrade has happened.
		span.End()
		return resp, nil
	}
	resp.Body = &tracedBody{rc: resp.Body, span: span}
	return resp, nil
}

// tracedBody ends the client span at EOF, on a read error or on Close,
// whichever comes first.
type tracedBody struct {
	rc   io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *tracedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		if err != io.EOF {
			b.once.Do(func() {
				b.span.RecordError(err)
				b.span.SetStatus(codes.Error, "reading response body")
				b.span.End()
			})
		} else {
			b.once.Do(b.end)
		}
	}
	return n, err
}

func (b *tracedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.end)
	return err
}

func (b *tracedBody) end() { b.span.End() }

func port(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return n
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}
