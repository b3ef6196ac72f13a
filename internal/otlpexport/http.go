package otlpexport

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

type httpTransport struct {
	url     string
	client  *http.Client
	headers http.Header
	gzip    bool
	zbuf    bytes.Buffer // compressed body, reused (sends are serialised)
	zw      *gzip.Writer
}

// maxResponse bounds how much of a response body is read.
const maxResponse = 64 << 10

func newHTTP(s *settings) *httpTransport {
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     s.tls,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	h := http.Header{}
	for k, v := range s.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/x-protobuf")
	h.Set("User-Agent", s.userAgent)
	if s.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	return &httpTransport{url: s.endpoint.String(), client: &http.Client{Transport: tr}, headers: h, gzip: s.gzip}
}

func (t *httpTransport) send(ctx context.Context, body []byte) ([]byte, error) {
	if t.gzip {
		t.zbuf.Reset()
		if t.zw == nil {
			t.zw = gzip.NewWriter(&t.zbuf)
		} else {
			t.zw.Reset(&t.zbuf)
		}
		_, _ = t.zw.Write(body)
		_ = t.zw.Close()
		body = t.zbuf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = t.headers.Clone()
	resp, err := t.client.Do(req)
	if err != nil {
		var cert *tls.CertificateVerificationError
		if errors.As(err, &cert) {
			return nil, err // retrying will not make the certificate valid
		}
		// Connection refused, reset, timeouts: transient by nature.
		return nil, &retryError{err: err}
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
			return nil, nil
		}
		return data, nil
	}
	err = fmt.Errorf("otlpexport: collector answered %s: %s", resp.Status, snippet(data))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nil, &retryError{err: err, after: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return nil, err
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped
// at a minute.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(min(s, 60)) * time.Second // capped before multiplying: no overflow
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return min(d, time.Minute)
		}
	}
	return 0
}

// snippet is a printable prefix of an error body (a protobuf Status or text).
func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		b = b[:max]
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		}
	}
	return string(out)
}

func (t *httpTransport) close() error {
	t.client.CloseIdleConnections()
	return nil
}
