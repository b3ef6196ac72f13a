//go:build !race

package metrics

import (
	"testing"
	"time"

	"github.com/o11y-go/o11y/internal/reqstate"
)

// Observe must not allocate: it runs once per request.
func TestObserveAllocs(t *testing.T) {
	var w lineBuffer
	r, _ := testRecorder(t, &w, nil)
	op := r.Operation("GET /orders/{id}")
	ctx := reqstate.With(spanCtx("5759e988bd862e3fe1be46a994272793", true), &reqstate.State{RequestID: "r"})
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		f := Flags(0)
		if i%7 == 0 {
			f = FlagFault
		}
		op.Observe(ctx, time.Duration(i)*time.Microsecond, f)
	})
	if allocs != 0 {
		t.Fatalf("Observe allocates %v times per call", allocs)
	}
	allocs = testing.AllocsPerRun(1000, func() { _ = r.Operation("GET /orders/{id}") })
	if allocs != 0 {
		t.Fatalf("Operation lookup allocates %v times per call", allocs)
	}
}
