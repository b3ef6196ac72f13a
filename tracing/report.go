package tracing

import (
	"errors"

	"go.opentelemetry.io/otel"

	"github.com/o11y-go/o11y/internal/report"
)

// reporter rate-limits this package's reports about bad input (hostile
// headers, unusable annotation values) to one per kind per minute and
// forwards them to the OpenTelemetry error handler, which the root package
// points at the SDK's ErrorHandler. Input values are never included: they
// are untrusted and could be large.
var reporter = report.New(func(err error) { otel.Handle(err) }, 0)

var (
	errBadHeader        = errors.New("tracing: malformed or oversized X-Amzn-Trace-Id ignored; a new trace was started")
	errBadAnnotation    = errors.New("tracing: Annotate: value is not a string, bool, integer or finite float; recorded as metadata instead")
	errBadKey           = errors.New("tracing: empty annotation or metadata key; value dropped")
	errTooManyAnnotated = errors.New("tracing: Annotate: more than 50 annotations on one span; recorded as metadata instead")
)

func reportBadHeader(string) { reporter.Report("tracing.header", errBadHeader) }
