package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// NewIDGenerator returns the X-Ray ID generator: trace ids carry the current
// Unix time in seconds in bytes 0..3 (big-endian, the "1-xxxxxxxx-" part of
// the X-Ray form, valid until 2106) and 12 random bytes; span ids are 8
// random bytes, never all zero.
//
// Randomness comes from the top-level functions of math/rand/v2, which are
// backed by the Go runtime's per-thread ChaCha8 generator (runtime.rand):
// seeded at start-up from the kernel (AT_RANDOM, else getrandom; a
// time-based seed only if the kernel cannot be read at all), safe for
// concurrent use and lock-free, so ID generation never serialises
// goroutines on a mutex (older contrib generators did) and never becomes
// deterministic. It allocates nothing.
//
// Root-only continuation: when ctx holds the remote parent extracted by
// [XRayPropagator] from a header without Parent (as ALB sends it), NewIDs
// returns that header's trace id with a fresh span id, so the new root span
// continues the caller's trace. A span started with trace.WithNewRoot does
// not see that parent and gets a new trace id.
func NewIDGenerator() sdktrace.IDGenerator { return idGenerator{now: time.Now} }

type idGenerator struct {
	now func() time.Time
}

var _ sdktrace.IDGenerator = idGenerator{}

// NewIDs returns a new trace id and span id (see [NewIDGenerator]).
func (g idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if in := incomingParent(ctx); in != nil && !in.hdr.ParentID.IsValid() {
		return in.hdr.TraceID, newSpanID()
	}
	var tid trace.TraceID
	binary.BigEndian.PutUint32(tid[0:4], uint32(g.now().Unix()))
	binary.LittleEndian.PutUint64(tid[4:12], rand.Uint64())
	binary.LittleEndian.PutUint32(tid[12:16], rand.Uint32())
	return tid, newSpanID()
}

// NewSpanID returns a new random, non-zero span id.
func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for {
		if v := rand.Uint64(); v != 0 {
			binary.LittleEndian.PutUint64(sid[:], v)
			return sid
		}
	}
}
