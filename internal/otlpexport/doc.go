// Package otlpexport is the SDK's OTLP trace exporter: an
// sdktrace.SpanExporter that speaks OTLP/gRPC or OTLP/HTTP (protobuf) and
// encodes spans directly to protobuf bytes with internal/otlpenc.
//
// # Why not the upstream exporter
//
// The upstream exporters build the generated OTLP message structs for every
// span (dozens of heap objects for a typical HTTP server span), then size
// and marshal them, on the batch processor's goroutine, which competes with
// request handling. Encoding straight from the ReadOnlySpan is several times
// cheaper and allocates nothing in steady state (figures in
// docs/BENCHMARKS.md). The wire content is the same (see internal/otlpenc
// for the two deliberate differences).
//
// # Configuration
//
// Options set in code win; every field left at its zero value falls back
// to its OTEL_EXPORTER_OTLP_* variable (the OTEL_EXPORTER_OTLP_TRACES_*
// form wins over the generic one), read through Options.Getenv, and then to
// the specification's default. This package is where those variables are
// read, with the specification's rules:
//
//   - ENDPOINT: TRACES_ENDPOINT is used as is (no path means "/");
//     the generic ENDPOINT is a base URL to which "/v1/traces" is appended
//     for HTTP. gRPC ignores the path. https:// means TLS and http://
//     plaintext, whatever INSECURE says; without a scheme, TLS unless
//     INSECURE=true (for HTTP, which requires a scheme, this is reported).
//     gRPC's dns:///host:port target form is read as host:port; other target forms are an error.
//   - PROTOCOL: grpc (default) or http/protobuf; http/json is reported and
//     sent as http/protobuf.
//   - HEADERS: "k1=v1,k2=v2", values percent-encoded.
//   - COMPRESSION: "gzip" or "none" (default).
//   - TIMEOUT: milliseconds for one export, retries included (default
//     10000).
//   - CERTIFICATE: PEM file of trusted roots for TLS (default: the system
//     roots); CLIENT_CERTIFICATE and CLIENT_KEY: PEM files for mutual TLS.
//
// docs/OTLP.md lists where this differs from the upstream exporters and
// the conformance test (conformance_test.go) that checks it.
//
// # gRPC without grpc-go
//
// OTLP/gRPC is one unary call, so the exporter frames it itself (grpcwire.go)
// over net/http's HTTP/2 client: prior-knowledge h2c for http endpoints,
// ALPN "h2" for https (through HTTPS_PROXY, as grpc-go does; a plaintext
// endpoint is dialled directly). The status comes from the grpc-status
// trailer, RetryInfo from grpc-status-details-bin. Not linking grpc-go and
// the protobuf runtime keeps them out of every service that does not use
// them itself.
//
// # Failure behaviour
//
// New never connects. An export makes up to five attempts within its
// timeout: gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE and DATA_LOSS are retried, RESOURCE_EXHAUSTED only with
// RetryInfo; HTTP 429, 502, 503, 504 and connection errors are retried,
// honouring Retry-After. Waits start at 0.5 s and double (±20 % jitter); a
// retry that could not finish before the deadline is not attempted. When
// the collector accepts a request but rejects some spans, ExportSpans
// returns a *PartialSuccess with the count.
package otlpexport
