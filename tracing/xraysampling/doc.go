// Package xraysampling implements AWS X-Ray sampling rules as an OpenTelemetry
// [sdktrace.Sampler] for root spans.
//
// # Decisions
//
// [Sampler.ShouldSample] picks the first rule that matches the span and
// applies the rule's reservoir (a number of requests per second, taken
// first) and then its fixed rate (a Bernoulli trial). With no configuration
// the only rule is X-Ray's default: 1 request per second, then 5 % of the
// rest. Reservoirs are per process: ten instances with a 1/s reservoir sample
// up to ten requests per second between them.
//
// The Sampler decides for root spans only. Wrap it in a parent-based sampler
// (tracing.ParentBased) so that spans with a sampled or unsampled parent
// follow it.
//
// # What is matched: the start-attribute contract
//
// OpenTelemetry passes a span's start attributes (those given with
// trace.WithAttributes when the span starts) to the sampler; attributes set
// later are invisible to it. Middleware must therefore start server spans
// with:
//
//   - http.request.method – the HTTP method (legacy http.method accepted)
//   - url.path – the path without the query (legacy http.target accepted;
//     its query is ignored)
//   - server.address – the Host header without port (legacy http.host,
//     net.host.name accepted)
//   - for gRPC, rpc.system and rpc.method, which centralized rules can match
//     through their Attributes
//
// o11y's own middleware (httpmw, grpcmw) starts server spans without
// attributes, which saves the OpenTelemetry SDK two copies of them, and
// hands the same attributes to the sampler as sampler-only inputs in the
// request state of the parent context; the finished span carries them all.
// A span started with attributes is matched on those; one started without
// any is matched on such inputs when its parent context has them.
//
// ServiceName, ServiceType (the X-Ray origin such as AWS::ECS::Fargate) and
// ResourceARN come from [Options] and are checked once, when rules load.
// Patterns use '*' (any run of characters) and '?' (one character) and
// compare case-insensitively. A property the request does not have matches
// only "*" (as in OTel Go's X-Ray sampler; the X-Ray Go SDK lets it match
// anything), so a rule for GET /api/* never captures background jobs; every
// key of a rule's Attributes must be present and match.
//
// # Local rules
//
// Options.Rules or Options.RulesFile holds a document in the X-Ray local
// sampling-rule format:
//
//	{"version": 2,
//	 "default": {"fixed_target": 1, "rate": 0.05},
//	 "rules": [{"description": "health", "host": "*", "http_method": "GET",
//	            "url_path": "/health*", "fixed_target": 0, "rate": 0}]}
//
// Rules are evaluated in file order, then the default. Version 1 documents
// (whose host field is called service_name) are accepted too. A missing or
// invalid document makes [New] return an error together with a Sampler that
// uses the default rule, so start-up never fails because of it.
//
// # Centralized rules
//
// With Options.Centralized the Sampler polls the rules defined in the X-Ray
// console through the daemon's TCP proxy (or the CloudWatch agent / collector
// awsproxy extension): POST /GetSamplingRules every 300 s and POST
// /SamplingTargets every 10 s (both jittered) with the request, sampled and
// borrowed counts of every rule that saw traffic. Rules apply in Priority
// order, then by name. Until a rule's quota arrives, or after it expires,
// the Sampler borrows one request per second and then uses the rule's fixed
// rate. The first poll runs in the background, so [New] never waits for the
// network; the local rules decide until centralized rules arrive and again
// when none could be fetched for Options.StaleAfter (1 h). Failures go to
// Options.ErrorHandler, at most once a minute per kind. [Sampler.Shutdown]
// stops the goroutine.
//
// # Debugging
//
// [Sampler.RuleName] tells which rule would decide for given parameters, and
// Options.RecordRuleName adds aws.xray.sampling_rule=<rule> to every sampled
// root span. [Sampler.Description] summarises the configuration for a
// start-up log line.
//
// # Cost
//
// ShouldSample takes no locks and allocates nothing: the reservoir is one
// atomic word holding the current second and the count taken in it.
package xraysampling

import sdktrace "go.opentelemetry.io/otel/sdk/trace"

var _ sdktrace.Sampler = (*Sampler)(nil)
