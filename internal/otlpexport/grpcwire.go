package otlpexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// The OTLP/gRPC exporter speaks the gRPC wire protocol itself over net/http's
// HTTP/2 client (h2c with prior knowledge for http:// endpoints, ALPN "h2"
// for https://), so the SDK does not link grpc-go for its one unary call.
// See https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md: a
// POST with content-type application/grpc and "te: trailers", a body of one
// length-prefixed message, and the outcome in the grpc-status trailer (or
// in the headers of a trailers-only response).

// exportMethod is the OTLP trace service's one RPC.
const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// gRPC status codes the exporter distinguishes (google.rpc.Code).
const (
	grpcOK                = 0
	grpcCanceled          = 1
	grpcUnknown           = 2
	grpcDeadlineExceeded  = 4
	grpcResourceExhausted = 8
	grpcAborted           = 10
	grpcOutOfRange        = 11
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcDataLoss          = 15
	grpcUnauthenticated   = 16
	grpcPermissionDenied  = 7
)

var grpcCodeNames = [...]string{
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated",
}

func grpcCodeName(c int) string {
	if c >= 0 && c < len(grpcCodeNames) {
		return grpcCodeNames[c]
	}
	return "Code(" + strconv.Itoa(c) + ")"
}

// grpcStatusError is a non-OK gRPC status from the collector.
type grpcStatusError struct {
	code int
	msg  string
}

func (e *grpcStatusError) Error() string {
	return fmt.Sprintf("otlpexport: collector answered gRPC status %s: %s", grpcCodeName(e.code), e.msg)
}

type grpcTransport struct {
	url     string
	client  *http.Client
	headers http.Header
	gzip    bool
	zbuf    bytes.Buffer // framed (and compressed) request, reused: sends are serialised
	zw      *gzip.Writer
}

func newGRPC(s *settings) (*grpcTransport, error) {
	u := url.URL{Scheme: s.endpoint.Scheme, Host: s.endpoint.Host, Path: exportMethod}
	protos := new(http.Protocols)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     5 * time.Minute,
		// gRPC compresses messages itself (grpc-encoding); an HTTP-level
		// Accept-Encoding is not part of the protocol and grpc-go sends none.
		DisableCompression: true,
		Protocols:          protos,
	}
	if u.Scheme == "https" {
		protos.SetHTTP2(true) // ALPN must select h2: gRPC has no HTTP/1 form
		tr.TLSClientConfig = s.tls
		// Like grpc-go, a TLS connection goes through HTTPS_PROXY (CONNECT).
		tr.Proxy = http.ProxyFromEnvironment
	} else {
		// Plaintext gRPC is HTTP/2 with prior knowledge, which an HTTP
		// proxy cannot carry: connect directly.
		protos.SetUnencryptedHTTP2(true)
	}
	h := http.Header{}
	for k, v := range s.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/grpc")
	h.Set("Te", "trailers")
	h.Set("User-Agent", s.userAgent)
	h.Set("Grpc-Accept-Encoding", "gzip")
	if s.gzip {
		h.Set("Grpc-Encoding", "gzip")
	}
	return &grpcTransport{url: u.String(), client: &http.Client{Transport: tr}, headers: h, gzip: s.gzip}, nil
}

// frame writes req as one gRPC length-prefixed message into t.zbuf.
func (t *grpcTransport) frame(req []byte) []byte {
	t.zbuf.Reset()
	var hdr [5]byte
	t.zbuf.Write(hdr[:])
	if t.gzip {
		if t.zw == nil {
			t.zw = gzip.NewWriter(&t.zbuf)
		} else {
			t.zw.Reset(&t.zbuf)
		}
		_, _ = t.zw.Write(req)
		_ = t.zw.Close()
	} else {
		t.zbuf.Write(req)
	}
	b := t.zbuf.Bytes()
	if t.gzip {
		b[0] = 1
	}
	binary.BigEndian.PutUint32(b[1:5], uint32(len(b)-5))
	return b
}

func (t *grpcTransport) send(ctx context.Context, req []byte) ([]byte, error) {
	// net/http may still read a request body after Do returns (an HTTP/2
	// stream the server answered early); the fence stops that before the
	// buffer is reused by the next send.
	f := &fence{b: t.frame(req)}
	defer f.close()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, f.reader())
	if err != nil {
		return nil, err
	}
	hreq.ContentLength = int64(len(f.b))
	hreq.GetBody = func() (io.ReadCloser, error) { return f.reader(), nil }
	hreq.Header = t.headers.Clone()
	if dl, ok := ctx.Deadline(); ok {
		hreq.Header.Set("Grpc-Timeout", grpcTimeout(time.Until(dl)))
	}
	resp, err := t.client.Do(hreq)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return nil, err // retrying will not make the certificate valid
		}
		// Connection refused, reset, GOAWAY, timeouts: Unavailable or
		// DeadlineExceeded in gRPC terms, both transient.
		return nil, &retryError{err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil, classifyGRPC(&grpcStatusError{code: httpToGRPC(resp.StatusCode),
			msg: "HTTP status " + resp.Status}, 0)
	}
	// A trailers-only response carries grpc-status in the headers.
	if st := resp.Header.Get("Grpc-Status"); st != "" {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		return nil, statusError(resp.Header)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/grpc") {
		return nil, fmt.Errorf("otlpexport: collector answered content-type %q, not gRPC", ct)
	}
	msg, err := readMessage(resp.Body, resp.Header.Get("Grpc-Encoding"))
	if err != nil {
		err = fmt.Errorf("otlpexport: reading gRPC response: %w", err)
		var pe *protocolError
		if errors.As(err, &pe) {
			return nil, err // a malformed answer is not transient
		}
		return nil, &retryError{err: err} // the stream broke
	}
	// Reach EOF so that the trailers are read.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
	if err := statusError(resp.Trailer); err != nil {
		return nil, err
	}
	return msg, nil
}

// protocolError is a response that breaks the gRPC framing rules.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protocolErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// fence hands out readers of b that fail once it is closed.
type fence struct {
	mu     sync.Mutex
	b      []byte
	closed bool
}

func (f *fence) reader() io.ReadCloser { return &fencedReader{f: f} }

func (f *fence) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

type fencedReader struct {
	f   *fence
	off int
}

var errBodyReused = errors.New("otlpexport: request body read after the call ended")

func (r *fencedReader) Read(p []byte) (int, error) {
	r.f.mu.Lock()
	defer r.f.mu.Unlock()
	if r.f.closed {
		return 0, errBodyReused
	}
	if r.off >= len(r.f.b) {
		return 0, io.EOF
	}
	n := copy(p, r.f.b[r.off:])
	r.off += n
	return n, nil
}

func (r *fencedReader) Close() error { return nil }

// readMessage reads the one length-prefixed response message (empty when
// the server sent none).
func readMessage(r io.Reader, encoding string) ([]byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxResponse {
		return nil, protocolErrorf("response message of %d bytes is over %d", n, maxResponse)
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return nil, err
	}
	switch hdr[0] {
	case 0:
		return msg, nil
	case 1:
		if encoding != "gzip" {
			return nil, protocolErrorf("compressed response with grpc-encoding %q", encoding)
		}
		zr, err := gzip.NewReader(bytes.NewReader(msg))
		if err != nil {
			return nil, protocolErrorf("compressed response: %v", err)
		}
		out, err := io.ReadAll(io.LimitReader(zr, maxResponse+1))
		if err != nil {
			return nil, protocolErrorf("compressed response: %v", err)
		}
		if len(out) > maxResponse {
			return nil, protocolErrorf("decompressed response over %d bytes", maxResponse)
		}
		return out, nil
	}
	return nil, protocolErrorf("bad message flag %d", hdr[0])
}

// statusError reads grpc-status, grpc-message and grpc-status-details-bin
// from h: nil for OK, else a classified error. A missing status is an
// error too (the stream ended without one).
func statusError(h http.Header) error {
	v := h.Get("Grpc-Status")
	if v == "" {
		// grpc-go reports this as Internal, which is not retried.
		return &grpcStatusError{code: grpcInternal, msg: "response without grpc-status"}
	}
	code, err := strconv.Atoi(v)
	if err != nil || code < 0 {
		return &grpcStatusError{code: grpcUnknown, msg: fmt.Sprintf("malformed grpc-status %q", v)}
	}
	if code == grpcOK {
		return nil
	}
	msg := h.Get("Grpc-Message")
	if m, err := url.PathUnescape(msg); err == nil {
		msg = m
	}
	return classifyGRPC(&grpcStatusError{code: code, msg: cleanMessage(msg)}, statusRetryDelay(h.Get("Grpc-Status-Details-Bin")))
}

// cleanMessage makes a collector's status message safe to print: valid
// UTF-8, no control characters, at most 200 bytes.
func cleanMessage(m string) string {
	const max = 200
	m = strings.ToValidUTF8(m, "\uFFFD")
	m = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, m)
	if len(m) > max {
		m = strings.ToValidUTF8(m[:max], "")
	}
	return m
}

// classifyGRPC marks the status codes the OTLP specification lists as
// retryable; RESOURCE_EXHAUSTED only when the server sent RetryInfo.
func classifyGRPC(e *grpcStatusError, delay time.Duration) error {
	switch e.code {
	case grpcCanceled, grpcDeadlineExceeded, grpcAborted, grpcOutOfRange, grpcUnavailable, grpcDataLoss:
		return &retryError{err: e, after: delay}
	case grpcResourceExhausted:
		if delay > 0 {
			return &retryError{err: e, after: delay}
		}
	}
	return e
}

// httpToGRPC maps an HTTP status of a non-gRPC answer (a proxy's, say) to a
// gRPC code, as gRPC clients do.
func httpToGRPC(code int) int {
	switch code {
	case http.StatusBadRequest:
		return grpcInternal
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return grpcUnavailable
	}
	return grpcUnknown
}

// grpcTimeout formats d as a grpc-timeout value: at most 8 digits and a
// unit.
func grpcTimeout(d time.Duration) string {
	if d <= 0 {
		d = time.Nanosecond
	}
	for _, u := range []struct {
		unit time.Duration
		c    string
	}{{time.Nanosecond, "n"}, {time.Microsecond, "u"}, {time.Millisecond, "m"}, {time.Second, "S"}, {time.Minute, "M"}, {time.Hour, "H"}} {
		if v := (d + u.unit - 1) / u.unit; v < 1e8 {
			return strconv.FormatInt(int64(v), 10) + u.c
		}
	}
	return "99999999H"
}

// retryInfoType is the type URL of google.rpc.RetryInfo in a Status's
// details.
const retryInfoType = "type.googleapis.com/google.rpc.RetryInfo"

// statusRetryDelay decodes grpc-status-details-bin (a base64
// google.rpc.Status, untrusted) and returns its RetryInfo delay, capped at a
// minute (a bigger value is not worth holding a batch for); 0 when absent
// or malformed.
func statusRetryDelay(v string) time.Duration {
	if v == "" {
		return 0
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "="))
	if err != nil {
		return 0
	}
	// Status: 3 = repeated Any details. Any: 1 = type_url, 2 = value.
	// RetryInfo: 1 = retry_delay (Duration: 1 = seconds, 2 = nanos).
	var delay time.Duration
	eachField(b, func(num protowire.Number, typ protowire.Type, val []byte, _ uint64) {
		if num != 3 || typ != protowire.BytesType {
			return
		}
		var typeURL string
		var value []byte
		eachField(val, func(num protowire.Number, typ protowire.Type, val []byte, _ uint64) {
			if typ != protowire.BytesType {
				return
			}
			switch num {
			case 1:
				typeURL = string(val)
			case 2:
				value = val
			}
		})
		if typeURL != retryInfoType {
			return
		}
		eachField(value, func(num protowire.Number, typ protowire.Type, val []byte, _ uint64) {
			if num != 1 || typ != protowire.BytesType {
				return
			}
			var secs, nanos int64
			eachField(val, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) {
				if typ != protowire.VarintType {
					return
				}
				switch num {
				case 1:
					secs = int64(x)
				case 2:
					nanos = int64(int32(x))
				}
			})
			if secs < 0 || nanos < 0 {
				return
			}
			if secs >= 60 {
				delay = time.Minute
				return
			}
			delay = min(time.Duration(secs)*time.Second+time.Duration(nanos), time.Minute)
		})
	})
	return delay
}

// eachField calls f for each field of the protobuf message b, with the
// payload of length-delimited fields or the value of varints. It stops at
// the first malformed field.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, val []byte, x uint64)) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			f(num, typ, v, 0)
			b = b[n:]
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return
			}
			f(num, typ, nil, x)
			b = b[n:]
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return
			}
			b = b[n:]
		}
	}
}

func (t *grpcTransport) close() error {
	t.client.CloseIdleConnections()
	return nil
}
