package httpmw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/aws/aws-xray-sdk-go/xraylog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/middleware/httpmw"
)

// fakeDaemon is a UDP listener on loopback standing in for the X-Ray daemon
// the aws-xray-sdk-go emitter sends to.
type fakeDaemon struct {
	mu   sync.Mutex
	docs []map[string]any
	more chan struct{} // closed and replaced when a document arrives
}

var (
	daemonOnce sync.Once
	daemon     *fakeDaemon
	daemonErr  error
)

type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

// xrayDaemon configures the X-Ray SDK (process-wide) to send to a fake daemon.
func xrayDaemon(t *testing.T) *fakeDaemon {
	t.Helper()
	daemonOnce.Do(func() {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			daemonErr = err
			return
		}
		d := &fakeDaemon{more: make(chan struct{})}
		go func() {
			buf := make([]byte, 65536)
			for {
				n, _, err := conn.ReadFrom(buf)
				if err != nil {
					return
				}
				_, body, ok := bytes.Cut(buf[:n], []byte("\n"))
				if !ok {
					continue
				}
				var m map[string]any
				if json.Unmarshal(body, &m) == nil {
					d.mu.Lock()
					d.docs = append(d.docs, m)
					close(d.more)
					d.more = make(chan struct{})
					d.mu.Unlock()
				}
			}
		}()
		xray.SetLogger(xraylog.NullLogger)
		daemonErr = xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String(), SamplingStrategy: alwaysSample{}})
		daemon = d
	})
	require.NoError(t, daemonErr)
	return daemon
}

func (d *fakeDaemon) dump() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, _ := json.Marshal(d.docs)
	return string(b)
}

// wait returns the first document (segment or nested subsegment) matching pred.
func (d *fakeDaemon) wait(t *testing.T, pred func(map[string]any) bool) map[string]any {
	t.Helper()
	var found map[string]any
	var walk func(m map[string]any) bool
	walk = func(m map[string]any) bool {
		if pred(m) {
			found = m
			return true
		}
		subs, _ := m["subsegments"].([]any)
		for _, s := range subs {
			if sm, ok := s.(map[string]any); ok && walk(sm) {
				return true
			}
		}
		return false
	}
	// Each arriving document is a sync point; the timeout only turns a
	// missing document into a failure.
	timeout := time.After(10 * time.Second)
	for {
		d.mu.Lock()
		for _, m := range d.docs {
			if walk(m) {
				d.mu.Unlock()
				return found
			}
		}
		more := d.more
		d.mu.Unlock()
		select {
		case <-more:
		case <-timeout:
			t.Fatalf("no matching X-Ray document in %v", d.dump())
		}
	}
}

// An aws-xray-sdk-go client calls our server: our server span's parent is
// the X-Ray SDK's client subsegment.
func TestXRaySDKClientToOurServer(t *testing.T) {
	d := xrayDaemon(t)
	sdk, rec := newSDK(t)
	var got string
	srv := serve(t, httpmw.New(sdk)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("X-Amzn-Trace-Id")
	})))

	ctx, seg := xray.BeginSegment(context.Background(), "xray-caller")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/from-xray", nil)
	resp, err := xray.Client(nil).Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	seg.Close(nil)

	// The header the X-Ray SDK sent names its client subsegment as Parent;
	// the subsegment it reported to the daemon has that id.
	require.Contains(t, got, "Root="+seg.TraceID)
	_, after, ok := strings.Cut(got, "Parent=")
	require.True(t, ok, got)
	subID, _, _ := strings.Cut(after, ";")
	sub := d.wait(t, func(m map[string]any) bool { return m["id"] == subID })
	assert.Equal(t, "remote", sub["namespace"])
	assert.NotEqual(t, seg.ID, subID)

	s := oneServerSpan(t, rec)
	assert.Equal(t, subID, s.Parent.SpanID().String(), "our segment's parent is its subsegment")
	assert.Equal(t, seg.TraceID, xrayTraceID(s.SpanContext.TraceID()))
	assert.True(t, s.SpanContext.IsSampled())
}

// Our client calls an aws-xray-sdk-go server: its segment's parent_id is our
// client span's id.
func TestOurClientToXRaySDKServer(t *testing.T) {
	d := xrayDaemon(t)
	sdk, rec := newSDK(t)
	srv := serve(t, xray.Handler(xray.NewFixedSegmentNamer("peer"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hi"))
	})))
	c := httpmw.Client(sdk, nil)
	resp, err := c.Get(srv.URL + "/x")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())

	cl := spansOfKind(rec, trace.SpanKindClient)
	require.Len(t, cl, 1)
	clientID := cl[0].SpanContext.SpanID().String()
	seg := d.wait(t, func(m map[string]any) bool { return m["name"] == "peer" && m["parent_id"] == clientID })
	assert.Equal(t, xrayTraceID(cl[0].SpanContext.TraceID()), seg["trace_id"])
	assert.Contains(t, resp.Header.Get("X-Amzn-Trace-Id"), xrayTraceID(cl[0].SpanContext.TraceID()))
}
