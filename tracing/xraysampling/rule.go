package xraysampling

import (
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// RuleAttributeKey is the span attribute naming the rule that sampled a root
// span, set only when [Options.RecordRuleName] is true.
const RuleAttributeKey = "aws.xray.sampling_rule"

// DefaultRuleName names the local default rule (and the service-side one).
const DefaultRuleName = "Default"

// request is what a rule is matched against, gathered once per ShouldSample
// from the start attributes without copying.
type request struct {
	method, path, host string
	attrs              []attribute.KeyValue
}

// attrPattern is one entry of a centralized rule's Attributes map.
type attrPattern struct{ key, pattern string }

// rule is one sampling rule plus its live reservoir state. Matching fields
// are immutable after construction; state is atomics so ShouldSample never
// takes a lock.
type rule struct {
	name     string
	priority int
	central  bool

	host, method, path string
	attrs              []attrPattern // centralized rules only

	reservoirSize int64   // local fixed_target, or centralized ReservoirSize
	fixedRate     float64 // rate when no target has arrived

	// resultAttrs is shared (never mutated) by every sampled span when the
	// rule name is recorded; sdktrace copies it into the span.
	resultAttrs []attribute.KeyValue

	// def is a canonical form of the definition, used to keep a rule's state
	// across rule refreshes when its definition did not change.
	def string

	reservoir reservoir
	borrow    reservoir
	target    atomic.Pointer[target]

	requests, sampled, borrowed atomic.Int64

	// Owned by the poller goroutine.
	interval   time.Duration
	nextReport time.Time
}

// target is a quota assignment from GetSamplingTargets. Immutable; swapped
// atomically as a whole.
type target struct {
	quota     int64
	expires   time.Time
	fixedRate float64
}

func newRule(name string, priority int, host, method, path string, size int64, rate float64) *rule {
	r := &rule{
		name: name, priority: priority,
		host: orStar(host), method: orStar(method), path: orStar(path),
		reservoirSize: size, fixedRate: rate,
	}
	r.resultAttrs = []attribute.KeyValue{attribute.String(RuleAttributeKey, name)}
	return r
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// matches reports whether the request satisfies the rule's per-request
// fields (service name/type and resource ARN were checked at load time).
func (r *rule) matches(q *request) bool {
	if !matchField(r.method, q.method) || !matchField(r.path, q.path) || !matchField(r.host, q.host) {
		return false
	}
	for i := range r.attrs {
		if !matchAttr(r.attrs[i], q.attrs) {
			return false
		}
	}
	return true
}

// matchAttr follows OTel Go's X-Ray sampler: the span must carry the key and
// its value must match the pattern.
func matchAttr(a attrPattern, kvs []attribute.KeyValue) bool {
	for i := range kvs {
		if string(kvs[i].Key) != a.key {
			continue
		}
		v := kvs[i].Value
		if v.Type() == attribute.STRING {
			return wildcardMatch(a.pattern, v.AsString())
		}
		return wildcardMatch(a.pattern, v.String()) // rare: non-string attribute rules
	}
	return false
}

// sample makes the decision for a request this rule matched.
func (r *rule) sample(now time.Time, rnd func() float64) bool {
	sec := now.Unix()
	if !r.central {
		return r.reservoir.take(sec, r.reservoirSize) || rnd() < r.fixedRate
	}
	r.requests.Add(1)
	rate := r.fixedRate
	if t := r.target.Load(); t != nil {
		rate = t.fixedRate
		if !now.After(t.expires) {
			if r.reservoir.take(sec, t.quota) || rnd() < rate {
				r.sampled.Add(1)
				return true
			}
			return false
		}
	}
	// No valid quota: borrow one request per second from the service's
	// reservoir until GetSamplingTargets assigns a quota (X-Ray SDK rule).
	if r.reservoirSize > 0 && r.borrow.take(sec, 1) {
		r.borrowed.Add(1)
		return true
	}
	if rnd() < rate {
		r.sampled.Add(1)
		return true
	}
	return false
}

// reservoir hands out up to capacity tokens per wall-clock second. The
// current second (low 32 bits) and the count taken in it share one word, so
// taking a token is a load and a CAS, and an exhausted reservoir is one load.
type reservoir struct{ v atomic.Uint64 }

func (r *reservoir) take(sec, capacity int64) bool {
	if capacity <= 0 {
		return false
	}
	if capacity > 1<<31 {
		capacity = 1 << 31
	}
	s := uint64(uint32(sec))
	for {
		old := r.v.Load()
		if old>>32 != s {
			if r.v.CompareAndSwap(old, s<<32|1) {
				return true
			}
			continue
		}
		if int64(old&0xffffffff) >= capacity {
			return false
		}
		if r.v.CompareAndSwap(old, old+1) {
			return true
		}
	}
}

// sortRules orders rules by priority, then name (X-Ray's evaluation order).
func sortRules(rs []*rule) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].priority != rs[j].priority {
			return rs[i].priority < rs[j].priority
		}
		return rs[i].name < rs[j].name
	})
}

// canonicalAttrs renders an Attributes map in key order, for rule identity.
func canonicalAttrs(m map[string]string) ([]attrPattern, string) {
	if len(m) == 0 {
		return nil, ""
	}
	out := make([]attrPattern, 0, len(m))
	for k, v := range m {
		out = append(out, attrPattern{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	var b strings.Builder
	for _, a := range out {
		b.WriteString(a.key)
		b.WriteByte('=')
		b.WriteString(a.pattern)
		b.WriteByte(0)
	}
	return out, b.String()
}
