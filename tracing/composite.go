package tracing

import (
	"errors"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
)

// NewPropagator returns the composite propagator for OTEL_PROPAGATORS
// names; see [ParsePropagators]. Unknown names are ignored and reported
// once through the OpenTelemetry error handler (otel.Handle).
func NewPropagator(names ...string) propagation.TextMapPropagator {
	p, err := ParsePropagators(names...)
	if err != nil {
		otel.Handle(err)
	}
	return p
}

// ParsePropagators builds a composite propagator from OTEL_PROPAGATORS
// names (case-insensitive, duplicates ignored):
//
//	xray          X-Amzn-Trace-Id ([XRayPropagator]); "xray-lambda" is accepted as an alias
//	tracecontext  W3C traceparent/tracestate
//	baggage       W3C baggage
//	none          nothing
//
// No names (or only empty ones) means xray, tracecontext, baggage. Unknown
// names (b3, jaeger, …) are ignored and listed in the returned error; if
// they leave nothing and "none" was not given, the default is used.
//
// Order: whatever the order of names, X-Ray is extracted after tracecontext,
// so when a request carries both, an X-Amzn-Trace-Id with a Parent wins (AWS
// services such as API Gateway and Lambda rewrite it to point at their own
// segment and leave traceparent alone), while a Root-only X-Ray header (ALB
// adds one to requests that arrive with traceparent only) does not replace a
// valid traceparent. Both headers are injected.
func ParsePropagators(names ...string) (propagation.TextMapPropagator, error) {
	var xray, tc, bag, known bool
	var unknown []string
	for _, n := range names {
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "":
			continue
		case "xray", "xray-lambda":
			xray = true
		case "tracecontext":
			tc = true
		case "baggage":
			bag = true
		case "none":
		default:
			unknown = append(unknown, strings.TrimSpace(n))
			continue
		}
		known = true
	}
	var err error
	if len(unknown) > 0 {
		err = errors.New("tracing: OTEL_PROPAGATORS: unsupported propagators ignored: " + strings.Join(unknown, ", "))
	}
	if !known {
		xray, tc, bag = true, true, true
	}
	var ps []propagation.TextMapPropagator
	if tc {
		ps = append(ps, propagation.TraceContext{})
	}
	if bag {
		ps = append(ps, propagation.Baggage{})
	}
	if xray {
		ps = append(ps, XRayPropagator{})
	}
	return propagation.NewCompositeTextMapPropagator(ps...), err
}
