// Package otlpenc encodes OpenTelemetry SDK spans straight into the
// protobuf wire form of an OTLP ExportTraceServiceRequest, and decodes the
// collector's ExportTraceServiceResponse.
//
// The upstream OTLP exporter first converts every span into generated
// protobuf structs (dozens of heap objects per span), then sizes and
// marshals them. [Encoder] appends the same bytes directly from
// [sdktrace.ReadOnlySpan], several times faster (BenchmarkEncode512; figures
// in docs/BENCHMARKS.md) and, once its scratch space has grown, without
// allocating.
//
// # Use
//
// Keep one [Encoder] per exporting goroutine and reuse the output buffer:
//
//	var enc otlpenc.Encoder
//	buf = enc.AppendTraceRequest(buf[:0], spans)
//	// send buf as the gRPC message (raw-bytes codec) or the HTTP body
//	// (Content-Type: application/x-protobuf); then, from the answer:
//	rejected, msg, err := otlpenc.ParseTraceResponse(respBody)
//
// An Encoder is not safe for concurrent use. Its zero value is ready; a nil
// *Encoder appends nothing.
//
// # Encoding
//
// The output is field for field what go.opentelemetry.io/otel/exporters/otlp/otlptrace
// v1.47.0 sends (its internal/tracetransform mapping), written in field
// number order with minimal varints, so proto.Marshal of the decoded
// message reproduces the bytes exactly:
//
//   - spans are grouped into ResourceSpans by [resource.Resource.Equivalent]
//     and into ScopeSpans by [instrumentation.Scope] equality, in order of
//     first appearance (upstream iterates a map, so its order varies);
//     nil spans are skipped; a nil resource omits the Resource message, the
//     zero scope omits the InstrumentationScope message;
//   - Status is always present; times before 1970 become 0; dropped counts
//     are clamped to 0..2^32-1;
//   - Span.flags and Link.flags carry the W3C trace flags, HAS_IS_REMOTE
//     (0x100) always and IS_REMOTE (0x200) when the parent (for a link, the
//     linked context) is remote;
//   - every attribute type is encoded, including BYTESLICE, nested SLICE and
//     MAP values, EMPTY (an AnyValue with nothing set) and "INVALID" for an
//     unknown type. Scalars inside the AnyValue oneof are written even when
//     zero, as upstream does.
//
// # Deliberate differences from upstream
//
//   - Invalid UTF-8 in any string field (span, event and scope names,
//     attribute keys and string values, status message, schema URLs) is
//     replaced with U+FFFD, one per invalid byte. Protobuf string fields
//     must be valid UTF-8: upstream's proto.Marshal fails the whole batch
//     instead. Byte-slice values are sent unchanged. Batches that needed
//     this are counted ([Encoder.InvalidUTF8]) and reported through
//     [Encoder.Reporter], rate-limited.
//   - A link's trace state is sent in Link.trace_state; upstream leaves the
//     field empty.
//
// # Performance
//
// Nested messages are length-prefixed without a sizing pass: the encoder
// reserves the usual number of bytes for the length (1 for attributes,
// 2 for a span, 3 for a ScopeSpans or ResourceSpans), writes the body, then
// writes the minimal varint and moves the body only when the guess was
// wrong. Scalar attributes with valid UTF-8, nearly all of them, are sized
// up front instead. Strings are checked for UTF-8 8 bytes at a time.
// Grouping uses reused slices and linked lists, trying the last group
// first, so a batch of one resource and scope costs one comparison per span.
//
// The attribute package copies slice-typed values (BOOLSLICE, INT64SLICE,
// FLOAT64SLICE, STRINGSLICE, SLICE, MAP) out when they are read, so spans
// carrying those allocate in its accessors; everything else does not.
//
// # Responses
//
// [ParseTraceResponse] reads partial_success from untrusted bytes with the
// protobuf rules (unknown fields and known fields with an unexpected wire
// type are skipped, repeated occurrences merge) and returns an error for
// malformed input instead of panicking.
package otlpenc
