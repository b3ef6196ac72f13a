package httpmw_test

import (
	"context"
	"github.com/o11y-go/o11y/o11ytest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/middleware/httpmw"
)

func TestClientToServerOneTrace(t *testing.T) {
	sdk, rec := newSDK(t)
	var gotXRay, gotW3C string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		gotXRay, gotW3C = r.Header.Get("X-Amzn-Trace-Id"), r.Header.Get("traceparent")
		_, _ = w.Write([]byte("item"))
	})
	srv := serve(t, httpmw.New(sdk)(mux))
	c := httpmw.Client(sdk, nil, httpmw.WithPeerService("inventory"))

	ctx, parent := sdk.Tracer().Start(context.Background(), "caller")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/items/7?secret=x", nil)
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	parent.End()
	assert.Equal(t, "item", string(body))
	assert.Empty(t, req.Header.Get("X-Amzn-Trace-Id"), "caller's request untouched")

	cl := spansOfKind(rec, trace.SpanKindClient)
	sv := spansOfKind(rec, trace.SpanKindServer)
	require.Len(t, cl, 1)
	require.Len(t, sv, 1)
	client, server := cl[0], sv[0]
	assert.Equal(t, "inventory", client.Name)
	assert.Equal(t, "inventory", attrString(client, "peer.service"))
	assert.Equal(t, "127.0.0.1", attrString(client, "server.address"))
	u, _ := url.Parse(srv.URL)
	assert.Equal(t, u.Port(), attrString(client, "server.port"))
	assert.Equal(t, srv.URL+"/items/7", attrString(client, "url.full"))
	assert.Equal(t, "200", attrString(client, "http.response.status_code"))
	assert.Equal(t, parent.SpanContext().SpanID(), client.Parent.SpanID())

	assert.Equal(t, client.SpanContext.TraceID(), server.SpanContext.TraceID(), "one trace")
	assert.Equal(t, client.SpanContext.SpanID(), server.Parent.SpanID(), "server's parent is the client span")
	assert.True(t, server.Parent.IsRemote())
	assert.Equal(t, "GET /items/{id}", server.Name)
	assert.Contains(t, gotXRay, "Parent="+client.SpanContext.SpanID().String())
	assert.Contains(t, gotW3C, client.SpanContext.SpanID().String())
}

func TestClientSpanEndsWithBody(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("body")) }))
	c := httpmw.Client(sdk, nil)

	resp, err := c.Get(srv.URL)
	require.NoError(t, err)
	assert.Empty(t, rec.Spans(), "not ended before the body is consumed")
	_, _ = io.ReadAll(resp.Body)
	assert.Len(t, rec.Spans(), 1, "ended at EOF")
	require.NoError(t, resp.Body.Close())
	assert.Len(t, rec.Spans(), 1, "ended once")

	resp, err = c.Get(srv.URL)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Len(t, rec.Spans(), 2, "ended on Close")
}

func TestClientStatusAndErrors(t *testing.T) {
	sdk, rec := newSDK(t)
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.WriteHeader(code)
	}))
	c := httpmw.Client(sdk, nil)
	for _, tc := range []struct {
		code  int
		error bool
	}{{200, false}, {404, true}, {429, true}, {503, true}} {
		rec.ResetSpans()
		do(t, c, "GET", srv.URL+"/"+strconv.Itoa(tc.code), nil)
		s := spansOfKind(rec, trace.SpanKindClient)
		require.Len(t, s, 1)
		assert.Equal(t, strconv.Itoa(tc.code), attrString(s[0], "http.response.status_code"))
		assert.Equal(t, tc.error, s[0].Status.Code == codes.Error, "status %d", tc.code)
	}

	// connection refused: exception event, status Error, no status code
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	rec.ResetSpans()
	_, err = c.Get("http://" + addr + "/x")
	require.Error(t, err)
	s := spansOfKind(rec, trace.SpanKindClient)
	require.Len(t, s, 1)
	assert.Equal(t, codes.Error, s[0].Status.Code)
	require.NotEmpty(t, s[0].Events)
	assert.Equal(t, "exception", s[0].Events[0].Name)
	_, hasStatus := attr(s[0], "http.response.status_code")
	assert.False(t, hasStatus)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClientRedactsURL: url.full never carries user info, query or fragment.
func TestClientRedactsURL(t *testing.T) {
	sdk, rec := newSDK(t)
	ok := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	c := httpmw.Client(sdk, &http.Client{Transport: ok})
	for in, want := range map[string]string{
		"https://u:p@h.example:8443/a/b?token=x#frag": "https://h.example:8443/a/b",
		"http://h/a?":      "http://h/a",
		"http://user@h/a":  "http://h/a",
		"http://h/%2Fa?q=": "http://h/%2Fa",
	} {
		rec.ResetSpans()
		resp, err := c.Get(in)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		cl := spansOfKind(rec, trace.SpanKindClient)
		require.Len(t, cl, 1)
		assert.Equal(t, want, attrString(cl[0], "url.full"), in)
	}
}

func TestTransportForwardsTheRequestID(t *testing.T) {
	sdk, _ := o11ytest.New(t)
	var gotDownstream string
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotDownstream = r.Header.Get("X-Request-Id")
	}))
	defer downstream.Close()
	client := httpmw.Client(sdk, nil)
	front := httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, downstream.URL, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}))
	req := httptest.NewRequest(http.MethodGet, "/a", nil)
	req.Header.Set("X-Request-Id", "req-42")
	front.ServeHTTP(httptest.NewRecorder(), req)
	assert.Equal(t, "req-42", gotDownstream)
}

// TestRequestIDHeaderOption: WithRequestIDHeader is one option for both
// sides: the server reads and returns the id in it, the client forwards it
// in it, and an id the application set on the outgoing request wins.
func TestRequestIDHeaderOption(t *testing.T) {
	sdk, _ := o11ytest.New(t)
	opt := httpmw.WithRequestIDHeader("x-correlation-id")
	got := make(chan string, 1)
	downstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("X-Correlation-Id")
	}))
	defer downstream.Close()
	client := httpmw.Client(sdk, nil, opt)
	var appID string
	front := httpmw.New(sdk, opt)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, downstream.URL, nil)
		if appID != "" {
			req.Header.Set("X-Correlation-Id", appID)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}))
	for _, tc := range []struct{ app, want string }{{"", "corr-7"}, {"set-by-app", "set-by-app"}} {
		appID = tc.app
		req := httptest.NewRequest(http.MethodGet, "/a", nil)
		req.Header.Set("X-Correlation-Id", "corr-7")
		w := httptest.NewRecorder()
		front.ServeHTTP(w, req)
		assert.Equal(t, tc.want, <-got)
		assert.Equal(t, "corr-7", w.Header().Get("X-Correlation-Id"))
		assert.Empty(t, w.Header().Get("X-Request-Id"))
	}
}
