// Package xraysegment translates ended OpenTelemetry spans into AWS X-Ray
// segment documents, the JSON the X-Ray daemon forwards to
// PutTraceSegments. It does no I/O: tracing/xrayudp sends its documents to
// the daemon, and the local console (o11y console) uses it to show OTLP
// spans as X-Ray would.
//
// Build one [Encoder] from a [Config] and share it; [Encoder.AppendSegment]
// appends one document per span to a buffer you reuse:
//
//	enc := xraysegment.NewEncoder(xraysegment.Config{IndexedAttributes: []string{"tenant.id"}})
//	buf = enc.AppendSegment(buf[:0], span)
//
// SERVER and CONSUMER spans, and spans without a parent, become segments;
// the others become subsegments, "aws" for AWS SDK calls and "remote" for
// other CLIENT and PRODUCER calls. The AWS SDK's own INTERNAL phase spans
// get no document ([Omitted]), so each AWS call is one subsegment. The [Encoder] lists the rules for names,
// http, flags, cause, annotations, metadata and the resource blocks;
// docs/AWS-CALLS.md covers AWS SDK and SQL calls. A CLIENT or PRODUCER span
// marked aws.span.kind=LOCAL_ROOT also needs its service segment, from
// [Encoder.AppendLocalRootSegment].
//
// Span attributes steer the translation per span: [AnnotationsKey] names
// the attributes to index as annotations, and an attribute under
// [MetadataPrefix] becomes its own metadata namespace.
//
// A document always fits one daemon datagram: one that would not is
// trimmed, never lost, and [Encoder.Trimmed] counts those.
package xraysegment
