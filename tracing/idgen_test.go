package tracing

import (
	"context"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

func TestIDGeneratorTimePrefix(t *testing.T) {
	at := time.Unix(0x5759e988, 0)
	g := idGenerator{now: func() time.Time { return at }}
	tid, sid := g.NewIDs(context.Background())
	assert.Equal(t, uint32(0x5759e988), binary.BigEndian.Uint32(tid[:4]))
	assert.Equal(t, "5759e988", tid.String()[:8])
	assert.True(t, tid.IsValid())
	assert.True(t, sid.IsValid())

	// Real clock: prefix within the test's time window.
	before := uint32(time.Now().Unix())
	tid, _ = NewIDGenerator().NewIDs(context.Background())
	after := uint32(time.Now().Unix())
	ts := binary.BigEndian.Uint32(tid[:4])
	assert.True(t, ts >= before && ts <= after, "prefix %d not in [%d,%d]", ts, before, after)
}

func TestIDGeneratorUniqueConcurrent(t *testing.T) {
	g := NewIDGenerator()
	const workers, per = 8, 2000
	var mu sync.Mutex
	traces := make(map[trace.TraceID]bool, workers*per)
	spans := make(map[trace.SpanID]bool, 2*workers*per)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([][3][16]byte, 0, per)
			for i := 0; i < per; i++ {
				tid, sid := g.NewIDs(context.Background())
				sid2 := g.NewSpanID(context.Background(), tid)
				var e [3][16]byte
				e[0] = tid
				copy(e[1][:], sid[:])
				copy(e[2][:], sid2[:])
				local = append(local, e)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range local {
				traces[e[0]] = true
				var s1, s2 trace.SpanID
				copy(s1[:], e[1][:8])
				copy(s2[:], e[2][:8])
				require.True(t, s1.IsValid() && s2.IsValid())
				spans[s1], spans[s2] = true, true
			}
		}()
	}
	wg.Wait()
	assert.Len(t, traces, workers*per)
	assert.Len(t, spans, 2*workers*per)
}

func TestIDGeneratorRootOnlyContinuation(t *testing.T) {
	g := NewIDGenerator()
	want, _ := ParseHeader("Root=" + h1Root)
	ctx := XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: "Root=" + h1Root})
	tid, sid := g.NewIDs(ctx)
	assert.Equal(t, want.TraceID, tid)
	assert.True(t, sid.IsValid())

	// With a Parent the SDK uses the parent's trace id itself and NewIDs is
	// not consulted for it; it then generates fresh ids.
	ctx = XRayPropagator{}.Extract(context.Background(), propagation.MapCarrier{HeaderName: h1})
	tid, _ = g.NewIDs(ctx)
	assert.NotEqual(t, want.TraceID, tid)
}
