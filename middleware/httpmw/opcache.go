package httpmw

import (
	"sync"
	"sync/atomic"

	"github.com/o11y-go/o11y/metrics"
)

// maxOperations bounds the distinct (method, route) pairs one middleware
// names; beyond it new routes are folded into "<METHOD> other_route" so a
// route function that leaks raw paths cannot explode span names and
// metric series.
const maxOperations = 1000

// OverflowRoute is the route used once a middleware has seen more than 1000
// distinct (method, route) pairs.
const OverflowRoute = "other_route"

type opKey struct{ method, route string }

// opEntry is the span name and metrics handle of one route, built once.
type opEntry struct {
	name string
	op   *metrics.Operation
}

// opCache is a copy-on-write map: lookups are one atomic load and one map
// read (a struct key of two strings hashes without allocating, unlike a
// sync.Map's interface key); writes happen once per route.
type opCache struct {
	rec *metrics.Recorder
	m   atomic.Pointer[map[opKey]*opEntry]
	mu  sync.Mutex
}

func (c *opCache) get(method, route string) *opEntry {
	if m := c.m.Load(); m != nil {
		if e := (*m)[opKey{method, route}]; e != nil {
			return e
		}
	}
	return c.add(method, route)
}

func (c *opCache) add(method, route string) *opEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[opKey]*opEntry
	if m := c.m.Load(); m != nil {
		old = *m
		if e := old[opKey{method, route}]; e != nil {
			return e
		}
		if len(old) >= maxOperations {
			if e := old[opKey{method, OverflowRoute}]; e != nil {
				return e
			}
			route = OverflowRoute
		}
	}
	name := method + " " + route
	e := &opEntry{name: name, op: c.rec.Operation(name)}
	next := make(map[opKey]*opEntry, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[opKey{method, route}] = e
	c.m.Store(&next)
	return e
}
