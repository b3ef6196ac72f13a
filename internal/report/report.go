// Package report rate-limits the SDK's reports about its own trouble (export
// failures, dropped data, bad input), so a failing daemon or a hostile header
// produces one line per interval per kind, never one per request.
package report

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultInterval is how often one kind of problem is reported at most.
const DefaultInterval = time.Minute

// Reporter forwards at most one error per key per interval to its handler,
// with the number of occurrences suppressed since the last report. A nil
// *Reporter discards everything. Safe for concurrent use.
type Reporter struct {
	handler  func(error)
	interval time.Duration
	now      func() time.Time

	mu    sync.Mutex
	kinds map[string]*kind
	total atomic.Uint64
}

type kind struct {
	last       time.Time
	suppressed uint64
}

// New returns a Reporter calling handler (nil discards) at most once per
// interval per key (interval <= 0 means DefaultInterval).
func New(handler func(error), interval time.Duration) *Reporter {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Reporter{handler: handler, interval: interval, now: time.Now, kinds: map[string]*kind{}}
}

// Report records one occurrence of err under key (a short fixed string such
// as "xray.drop" — never a per-request value, or the map would grow).
func (r *Reporter) Report(key string, err error) {
	if r == nil || err == nil {
		return
	}
	r.total.Add(1)
	now := r.now()
	r.mu.Lock()
	k := r.kinds[key]
	if k == nil {
		if len(r.kinds) >= 1024 { // bound memory even if a caller misuses keys
			r.mu.Unlock()
			return
		}
		k = &kind{}
		r.kinds[key] = k
	} else if now.Sub(k.last) < r.interval {
		k.suppressed++
		r.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.suppressed = 0
	k.last = now
	r.mu.Unlock()
	if r.handler == nil {
		return
	}
	if suppressed > 0 {
		err = fmt.Errorf("%w (and %d more since last report)", err, suppressed)
	}
	r.handler(err)
}

// Total returns how many errors were reported, suppressed ones included.
func (r *Reporter) Total() uint64 {
	if r == nil {
		return 0
	}
	return r.total.Load()
}

// SetClock replaces the clock (tests).
func (r *Reporter) SetClock(now func() time.Time) { r.now = now }
