package xraysampling

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/o11y-go/o11y/internal/report"
	"github.com/o11y-go/o11y/internal/reqstate"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Defaults for [Options]; the polling ones follow the X-Ray SDKs.
const (
	DefaultProxyAddress    = "127.0.0.1:2000"
	DefaultRulesInterval   = 300 * time.Second
	DefaultTargetsInterval = 10 * time.Second
	DefaultHTTPTimeout     = 2 * time.Second
	DefaultStaleAfter      = time.Hour
)

// Options configures a [Sampler]. The zero value gives X-Ray's default rule
// (1 request/s, then 5 %) with no network activity.
type Options struct {
	// ServiceName is matched against centralized rules' ServiceName (the
	// X-Ray segment name).
	ServiceName string
	// ServiceType is matched against centralized rules' ServiceType: the
	// segment origin, e.g. "AWS::ECS::Fargate" (see awsresource.Origin).
	ServiceType string
	// ResourceARN is matched against centralized rules' ResourceARN.
	ResourceARN string

	// Rules is a local sampling-rules document (X-Ray JSON, version 1 or 2).
	// It wins over RulesFile.
	Rules []byte
	// RulesFile is the path of a local sampling-rules document.
	RulesFile string

	// Centralized polls X-Ray sampling rules and targets through the daemon
	// (or CloudWatch agent / collector awsproxy) at ProxyAddress. The local
	// rules apply until the first rules arrive and whenever the proxy has
	// been unreachable for StaleAfter.
	Centralized bool
	// ProxyAddress is the TCP host:port of the proxy. Default 127.0.0.1:2000.
	// The AWS_XRAY_DAEMON_ADDRESS double form "tcp:h:p udp:h:p" and
	// "http://h:p" are accepted too.
	ProxyAddress string

	// RulesInterval is how often rules are polled (default 300s, jittered).
	RulesInterval time.Duration
	// TargetsInterval is how often statistics are reported and quotas
	// fetched (default 10s, jittered).
	TargetsInterval time.Duration
	// HTTPTimeout bounds each request to the proxy (default 2s).
	HTTPTimeout time.Duration
	// StaleAfter is how long centralized rules stay in use after the last
	// successful rules poll (default 1h).
	StaleAfter time.Duration

	// RecordRuleName adds the attribute aws.xray.sampling_rule (the name of
	// the rule that sampled it) to sampled root spans.
	RecordRuleName bool

	// ErrorHandler receives polling failures, rate-limited per kind.
	ErrorHandler func(error)
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// Random returns a number in [0,1) (tests). Default math/rand/v2, which
	// is safe for concurrent use and does not lock.
	Random func() float64
}

// Sampler makes X-Ray rule-based decisions for root spans. It implements
// [sdktrace.Sampler]; wrap it with a parent-based sampler so child spans
// follow their parent. Safe for concurrent use; a nil *Sampler samples
// nothing.
type Sampler struct {
	serviceName, serviceType, resourceARN string
	recordRule                            bool
	now                                   func() time.Time
	rnd                                   func() float64
	staleAfter                            time.Duration
	desc                                  string
	rep                                   *report.Reporter

	local   []*rule
	central atomic.Pointer[ruleSet]

	poll      *poller
	closeOnce sync.Once
}

// ruleSet is one generation of centralized rules, sorted for evaluation.
type ruleSet struct {
	rules   []*rule
	fetched time.Time
}

// New returns a Sampler. It never fails to return a usable Sampler: when the
// local rules cannot be read or parsed, the returned error says why and the
// Sampler uses X-Ray's default rule. With Options.Centralized it starts one
// background goroutine (first poll immediately, without blocking); call
// [Sampler.Shutdown] to stop it.
func New(opts Options) (*Sampler, error) {
	s := &Sampler{
		serviceName: opts.ServiceName,
		serviceType: opts.ServiceType,
		resourceARN: opts.ResourceARN,
		recordRule:  opts.RecordRuleName,
		now:         opts.Now,
		rnd:         opts.Random,
		staleAfter:  opts.StaleAfter,
		rep:         report.New(opts.ErrorHandler, 0),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rnd == nil {
		s.rnd = rand.Float64
	}
	if s.staleAfter <= 0 {
		s.staleAfter = DefaultStaleAfter
	}
	var err error
	data := opts.Rules
	if data == nil && opts.RulesFile != "" {
		data, err = os.ReadFile(opts.RulesFile)
		if err != nil {
			err = errors.New("xraysampling: " + err.Error())
		}
	}
	if data != nil {
		var rs []*rule
		if rs, err = parseLocalRules(data); err == nil {
			s.local = rs
		}
	}
	if s.local == nil {
		s.local = defaultLocalRules()
	}
	var b strings.Builder
	b.WriteString("XRaySampler{rules=")
	b.WriteString(strconv.Itoa(len(s.local)))
	if opts.Centralized {
		b.WriteString(",centralized")
	}
	b.WriteString("}")
	s.desc = b.String()
	if opts.Centralized {
		s.poll = newPoller(s, opts)
		s.poll.start()
	}
	return s, err
}

// ShouldSample implements [sdktrace.Sampler]. It reads the request's HTTP
// method, path and host from the start attributes (see the package doc),
// picks the first matching rule and applies its reservoir and rate. It takes
// no locks and allocates nothing.
func (s *Sampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	var res sdktrace.SamplingResult
	if p.ParentContext != nil {
		res.Tracestate = trace.SpanContextFromContext(p.ParentContext).TraceState()
	}
	if s == nil {
		return res
	}
	var q request
	fillRequest(&q, &p)
	now := s.now()
	r := s.match(&q, now)
	if r != nil && r.sample(now, s.rnd) {
		res.Decision = sdktrace.RecordAndSample
		if s.recordRule {
			res.Attributes = r.resultAttrs
		}
	}
	return res
}

// Description implements [sdktrace.Sampler].
func (s *Sampler) Description() string {
	if s == nil {
		return "XRaySampler{nil}"
	}
	return s.desc
}

// RuleName returns the name of the rule that would decide for p, for
// debugging ("" for a nil Sampler). It does not touch reservoirs.
func (s *Sampler) RuleName(p sdktrace.SamplingParameters) string {
	if s == nil {
		return ""
	}
	var q request
	fillRequest(&q, &p)
	if r := s.match(&q, s.now()); r != nil {
		return r.name
	}
	return ""
}

// match returns the first centralized rule that applies, when centralized
// rules are fresh, else the first local rule.
func (s *Sampler) match(q *request, now time.Time) *rule {
	if set := s.central.Load(); set != nil && now.Sub(set.fetched) < s.staleAfter {
		for _, r := range set.rules {
			if r.matches(q) {
				return r
			}
		}
	}
	for _, r := range s.local {
		if r.matches(q) {
			return r
		}
	}
	return nil
}

// fillRequest picks the matched properties out of the start attributes
// (or, for a span started without any, the sampler-only inputs o11y's
// middleware puts in the parent context): stable HTTP semantic conventions
// first, older names as a fallback.
func fillRequest(q *request, p *sdktrace.SamplingParameters) {
	attrs := p.Attributes
	if len(attrs) == 0 && p.ParentContext != nil {
		attrs = reqstate.SamplingAttributes(p.ParentContext)
	}
	q.attrs = attrs
	var legacyTarget, legacyHost string
	for i := range attrs {
		kv := &attrs[i]
		if kv.Value.Type() != attribute.STRING {
			continue
		}
		switch kv.Key {
		case "http.request.method":
			q.method = kv.Value.AsString()
		case "http.method":
			if q.method == "" {
				q.method = kv.Value.AsString()
			}
		case "url.path":
			q.path = kv.Value.AsString()
		case "http.target":
			legacyTarget = kv.Value.AsString()
		case "server.address":
			q.host = kv.Value.AsString()
		case "http.host", "net.host.name":
			legacyHost = kv.Value.AsString()
		}
	}
	if q.path == "" && legacyTarget != "" {
		if i := strings.IndexByte(legacyTarget, '?'); i >= 0 {
			legacyTarget = legacyTarget[:i]
		}
		q.path = legacyTarget
	}
	if q.host == "" {
		q.host = legacyHost
	}
}

// Shutdown stops centralized polling and waits for the goroutine to exit or
// ctx to end. Idempotent; the Sampler keeps working on its current rules.
func (s *Sampler) Shutdown(ctx context.Context) error {
	if s == nil || s.poll == nil {
		return nil
	}
	s.closeOnce.Do(s.poll.stop)
	select {
	case <-s.poll.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown without a deadline.
func (s *Sampler) Close() error { return s.Shutdown(context.Background()) }
