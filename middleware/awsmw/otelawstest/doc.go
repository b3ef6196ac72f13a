// Package otelawstest is a test-only module: it checks that spans of the
// OpenTelemetry contrib instrumentation otelaws (v0.72.0, deprecated
// upstream) still become the same X-Ray aws subsegments as the AWS SDK's
// own tracing that middleware/awsmw now installs, for services that wire
// otelaws themselves. Its own module, so awsmw does not require otelaws.
package otelawstest
