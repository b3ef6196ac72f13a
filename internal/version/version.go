// Package version holds the SDK's release version, in one place, and the
// tracers its packages create with it. As OpenTelemetry instrumentation
// libraries do, each instrumenting package names its instrumentation scope
// after its own import path and stamps it with this version, so a span
// tells which package of which release made it.
package version

import "go.opentelemetry.io/otel/trace"

// Version is the release of this module (semantic versioning, without the
// leading "v"); bump it with every tagged release.
const Version = "0.1.0"

// Tracer returns tp's tracer for the instrumentation scope scope (the
// import path of the calling package) at [Version].
func Tracer(tp trace.TracerProvider, scope string) trace.Tracer {
	return tp.Tracer(scope, trace.WithInstrumentationVersion(Version))
}
