package tracing

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultRatio is the fallback root sampling ratio (X-Ray's default rule
// samples 1 request/s plus 5 %; package tracing/xraysampling implements
// the reservoir part).
const DefaultRatio = 0.05

// ParentBased returns a parent-based sampler that understands the X-Ray
// "no decision" states, otherwise behaving like [sdktrace.ParentBased] with
// the same options:
//
//   - a remote parent from an X-Amzn-Trace-Id with Sampled=? or without
//     Sampled: root decides (the contrib propagator would make it "not
//     sampled" and lose the trace);
//   - a Root-only header with Sampled=1 or Sampled=0: the decision is
//     honoured through the remote-parent samplers of opts (default
//     AlwaysSample / NeverSample);
//   - a Root-only header without decision: root decides;
//   - any other parent (local spans, W3C traceparent, X-Ray with Sampled=0|1):
//     the parent's flag decides, as in [sdktrace.ParentBased].
//
// A nil root samples [DefaultRatio] of new traces by trace id (see
// [SamplerFromName], "traceidratio").
func ParentBased(root sdktrace.Sampler, opts ...sdktrace.ParentBasedSamplerOption) sdktrace.Sampler {
	if root == nil {
		root = traceIDRatio(DefaultRatio)
	}
	return parentBased{root: root, inner: sdktrace.ParentBased(root, opts...)}
}

type parentBased struct {
	root  sdktrace.Sampler
	inner sdktrace.Sampler
}

// ShouldSample implements [sdktrace.Sampler].
func (s parentBased) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	in := incomingParent(p.ParentContext)
	if in == nil {
		return s.inner.ShouldSample(p)
	}
	switch in.hdr.Sampled {
	case DecisionSampled, DecisionNotSampled:
		if in.hdr.ParentID.IsValid() {
			return s.inner.ShouldSample(p) // flag already on the remote parent
		}
		// Root-only with an explicit decision: show the configured
		// remote-parent sampler a parent carrying that decision. The span
		// id is a placeholder the samplers never see otherwise; this path
		// (Root-only + Sampled=0|1) is rare, so its allocations are too.
		var flags trace.TraceFlags
		if in.hdr.Sampled == DecisionSampled {
			flags = trace.FlagsSampled
		}
		q := p
		q.ParentContext = trace.ContextWithRemoteSpanContext(p.ParentContext, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID:    in.hdr.TraceID,
			SpanID:     trace.SpanID{0, 0, 0, 0, 0, 0, 0, 1},
			TraceFlags: flags,
			Remote:     true,
		}))
		return s.inner.ShouldSample(q)
	}
	return s.root.ShouldSample(p)
}

// Description implements [sdktrace.Sampler].
func (s parentBased) Description() string {
	return "XRayParentBased{" + s.inner.Description() + "}"
}

// traceIDRatio samples the given fraction of new traces (<= 0 none, >= 1
// all), deciding from the 12 random bytes of the trace id only. X-Ray trace
// ids begin with a 4-byte timestamp, so a ratio sampler reading those bytes
// would pick whole seconds at a time; the contrib X-Ray README warns about
// pairing its generator with TraceIDRatioBased for that reason. (The SDK's
// TraceIDRatioBased of v1.47 reads bytes 8..15, which are random in our
// ids too; this sampler makes the guarantee explicit and uses all 96 random
// bits.) Use it as the root of [ParentBased]: on its own it ignores the
// parent's decision.
func traceIDRatio(fraction float64) sdktrace.Sampler {
	if !(fraction > 0) { // also NaN
		fraction = 0
	}
	if fraction > 1 {
		fraction = 1
	}
	return ratioSampler{
		bound:       uint64(fraction * (1 << 63)),
		all:         fraction >= 1,
		description: "XRayTraceIDRatio{" + strconv.FormatFloat(fraction, 'g', -1, 64) + "}",
	}
}

type ratioSampler struct {
	bound       uint64
	all         bool
	description string
}

// ShouldSample implements [sdktrace.Sampler].
func (r ratioSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	res := sdktrace.SamplingResult{
		Decision:   sdktrace.Drop,
		Tracestate: trace.SpanContextFromContext(p.ParentContext).TraceState(),
	}
	if r.all || ratioKey(p.TraceID) < r.bound {
		res.Decision = sdktrace.RecordAndSample
	}
	return res
}

// Description implements [sdktrace.Sampler].
func (r ratioSampler) Description() string { return r.description }

// ratioKey folds the random bytes 4..15 of a trace id into 63 uniform bits;
// the timestamp bytes 0..3 are never read.
func ratioKey(id trace.TraceID) uint64 {
	x := binary.BigEndian.Uint64(id[8:16]) ^ uint64(binary.BigEndian.Uint32(id[4:8]))<<16
	return x >> 1
}

// SamplerFromName builds a sampler from an OTEL_TRACES_SAMPLER name and
// OTEL_TRACES_SAMPLER_ARG value:
//
//	always_on, always_off            ignore the parent
//	traceidratio                     ratio(arg) by trace id, ignores the parent
//	parentbased_always_on            [ParentBased](AlwaysSample)
//	parentbased_always_off           [ParentBased](NeverSample)
//	parentbased_traceidratio         [ParentBased](ratio(arg))
//	xray, "" (default)               [ParentBased](xrayRoot)
//
// ratio(f) samples the fraction f of new traces, deciding on the 12 random
// bytes of the trace id, never its timestamp. arg defaults to 1.0 for the
// ratio samplers. xrayRoot is the X-Ray rule
// sampler (tracing/xraysampling); nil means ratio([DefaultRatio]).
// On an unknown name or a bad arg the error says so and the returned
// sampler is still usable (the default for the unknown part), so callers
// report the error and go on.
func SamplerFromName(name, arg string, xrayRoot sdktrace.Sampler) (sdktrace.Sampler, error) {
	if xrayRoot == nil {
		xrayRoot = traceIDRatio(DefaultRatio)
	}
	name = strings.ToLower(strings.TrimSpace(name))
	ratio := func() (float64, error) {
		arg := strings.TrimSpace(arg)
		if arg == "" {
			return 1, nil
		}
		f, err := strconv.ParseFloat(arg, 64)
		if err != nil || f < 0 || f > 1 || f != f {
			return 1, fmt.Errorf("tracing: sampler %s: argument %q is not a ratio in [0, 1]; using 1", name, arg)
		}
		return f, nil
	}
	switch name {
	case "", "xray", "parentbased_xray":
		return ParentBased(xrayRoot), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		f, err := ratio()
		return traceIDRatio(f), err
	case "parentbased_always_on":
		return ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		f, err := ratio()
		return ParentBased(traceIDRatio(f)), err
	}
	return ParentBased(xrayRoot), errors.New("tracing: unknown sampler " + strconv.Quote(name) + "; using xray")
}
