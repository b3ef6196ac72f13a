// Package xraysampling implements AWS X-Ray sampling rules as an OpenTelemetry
// [sdktrace.Sampler] for root spans. The root package sets it up from
// O11Y_XRAY_SAMPLING_RULES and O11Y_XRAY_CENTRALIZED_SAMPLING; use it
// directly only with your own tracer provider:
//
//	s, err := xraysampling.New(xraysampling.Options{ServiceName: "orders", RulesFile: "rules.json"})
//	// err is for reporting: s is always usable (the default rule on error)
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tracing.ParentBased(s)))
//	defer s.Shutdown(ctx)
//
// [Sampler.ShouldSample] takes the first rule that matches and applies its
// reservoir (requests per second, per process), then its fixed rate; with
// no rules, X-Ray's default of 1 request/s plus 5 %. It decides for root
// spans only: wrap it with tracing.ParentBased so children follow their
// parent. It takes no locks and allocates nothing.
//
// Rules match on the span's start attributes, the only ones a sampler sees:
// start server spans with http.request.method, url.path (no query) and
// server.address (the host without port), as httpmw and grpcmw do; legacy
// http.method, http.target and http.host are accepted. httpmw and grpcmw
// start server spans without attributes (it saves the SDK two copies) and
// hand the sampler the same inputs through the request state in the parent
// context; a span started without attributes is matched on those.
// Patterns use '*' and
// '?' and ignore case; a property the span lacks matches only "*".
// Options.Rules or RulesFile take the X-Ray local rule format (version 1
// or 2), evaluated in order, then the default rule.
//
// With Options.Centralized the sampler polls the X-Ray console's rules and
// quotas through the daemon's TCP proxy, in the background, so [New] never
// waits for the network; local rules decide until they arrive and again
// once they are older than Options.StaleAfter. Failures go to
// Options.ErrorHandler, at most once a minute per kind.
//
// [Sampler.RuleName] tells which rule would decide for given parameters;
// Options.RecordRuleName adds aws.xray.sampling_rule to sampled root spans;
// [Sampler.Description] summarises the set-up for a start-up line.
package xraysampling

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

var _ sdktrace.Sampler = (*Sampler)(nil)
