package mwcore

import (
	"sync"
	"sync/atomic"

	"github.com/o11y-go/o11y/metrics"
)

// Op is one operation as the middleware records it: the span name, which is
// also the metrics Operation dimension value, and the metrics handle.
type Op struct {
	Name    string
	Metrics *metrics.Operation // nil when metrics are off (Observe is nil-safe)
}

// maxFoldedKeys bounds how many keys that were folded into
// [metrics.OtherOperation] are remembered (so their lookups stay lock-free);
// later ones are folded again on each lookup.
const maxFoldedKeys = 1024

// Ops is the operation-name cardinality guard: it maps an operation key
// (HTTP method and route, gRPC full method) to its [Op], built once. The
// cap is the metrics recorder's: a name the recorder folds into
// [metrics.OtherOperation] (past its MaxOperations, default 200, counted over
// everything recording into it: HTTP, gRPC and the application's own
// operations) names the span "other" too, so span names and the metrics
// Operation dimension always carry the same value. Without a recorder
// (metrics off) Ops applies the same default cap itself.
//
// Lookups are one atomic load and one map read (a comparable struct key
// hashes without allocating); the copy-on-write map is written once per key.
type Ops[K comparable] struct {
	rec    *metrics.Recorder
	name   func(K) string
	m      atomic.Pointer[map[K]*Op]
	mu     sync.Mutex
	n      int // names admitted without a recorder
	folded int // folded keys remembered
	other  *Op
}

// NewOps returns a guard recording into rec (nil: metrics off) that builds
// the name of key k with name(k) (called once per key, under a lock).
func NewOps[K comparable](rec *metrics.Recorder, name func(K) string) *Ops[K] {
	return &Ops[K]{rec: rec, name: name}
}

// Lookup returns the Op of k if k has been admitted, else nil. It never
// admits: use it while the name may still be a probe off the wire (a gRPC
// method the server may not have).
func (c *Ops[K]) Lookup(k K) *Op {
	if m := c.m.Load(); m != nil {
		return (*m)[k]
	}
	return nil
}

// Get returns the Op of k, admitting k (or folding it) on first use.
func (c *Ops[K]) Get(k K) *Op {
	if e := c.Lookup(k); e != nil {
		return e
	}
	return c.add(k)
}

func (c *Ops[K]) add(k K) *Op {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[K]*Op
	if m := c.m.Load(); m != nil {
		old = *m
		if e := old[k]; e != nil {
			return e
		}
	}
	name := c.name(k)
	var e *Op
	folded := false
	switch {
	case c.rec != nil:
		op := c.rec.Operation(name)
		if op.Name() == metrics.OtherOperation && name != metrics.OtherOperation {
			folded = true
			if c.other == nil || c.other.Metrics != op {
				c.other = &Op{Name: metrics.OtherOperation, Metrics: op}
			}
			e = c.other
		} else {
			e = &Op{Name: op.Name(), Metrics: op}
		}
	case c.n >= metrics.DefaultMaxOperations && name != metrics.OtherOperation:
		folded = true
		if c.other == nil {
			c.other = &Op{Name: metrics.OtherOperation}
		}
		e = c.other
	default:
		c.n++
		e = &Op{Name: name}
	}
	if folded {
		if c.folded >= maxFoldedKeys {
			return e
		}
		c.folded++
	}
	next := make(map[K]*Op, len(old)+1)
	for k2, v := range old {
		next[k2] = v
	}
	next[k] = e
	c.m.Store(&next)
	return e
}
