// Package xraysegment translates ended OpenTelemetry spans into AWS X-Ray
// segment documents (the JSON the X-Ray daemon forwards to PutTraceSegments).
// It does no I/O: tracing/xrayudp sends its documents to the daemon, and the
// local console (o11y console) uses it to show OTLP spans as X-Ray would.
//
// An [Encoder] is built once from a [Config] and is safe for concurrent use;
// [Encoder.AppendSegment] appends one document per span to a caller's
// buffer. Work that depends only on the span's resource (names, origin, the
// aws blocks) is done once per resource. A CLIENT or PRODUCER span marked
// aws.span.kind=LOCAL_ROOT needs a second document, its service segment:
// [Encoder.AppendLocalRootSegment].
//
//	enc := xraysegment.NewEncoder(xraysegment.Config{IndexedAttributes: []string{"tenant.id"}})
//	doc := enc.AppendSegment(buf[:0], span)
//
// # Translation
//
// The rules follow the OpenTelemetry collector's X-Ray exporter, with the
// corrections our SDK needs:
//
//   - SERVER and CONSUMER spans, and spans without a parent, become
//     segments; every other span becomes an independent subsegment
//     ("type":"subsegment", "parent_id" = parent span id) with namespace
//     "aws" for AWS SDK calls (rpc.system.name or rpc.system = aws-api),
//     "remote" for CLIENT and PRODUCER spans.
//   - AWS SDK calls (the SDK's own tracing through smithyoteltracing, as
//     middleware/awsmw sets it up, and otelaws of both key generations) are
//     named after the service and carry aws.operation, region, request_id,
//     retries and the resource fields (table, queue, bucket, topic,
//     function, stream); the SDK's INTERNAL phase spans get no document
//     ([Omitted]), so each call is one subsegment; see docs/AWS-CALLS.md.
//     SQL spans (db.system.name a SQL system, e.g. from otelsql) get a sql
//     block.
//   - Segment names: Config.SegmentName, else aws.local.service, else the
//     resource's service.name. Subsegments are named after the peer
//     (peer.service, aws.remote.service, the AWS service, db.name@host,
//     server.address, rpc.service), else the span name; all names are
//     sanitised to X-Ray's character set and cut to 200 bytes.
//   - http from both HTTP semantic-convention generations; fault, error and
//     throttle from the HTTP status, else the gRPC status code, else the
//     span status. cause.exceptions come from "exception" events, with Go
//     stack traces parsed into frames.
//   - Annotations are the attributes named in Config.IndexedAttributes or in
//     the span's [AnnotationsKey] attribute (scalars only, keys reduced to
//     [A-Za-z0-9_], at most 50); every other attribute goes to
//     metadata.default, except [MetadataPrefix]<ns> attributes holding a JSON
//     object, which become metadata.<ns>.
//   - From the resource: origin from cloud.platform, aws.ecs / aws.ec2 /
//     aws.eks, aws.xray SDK info, aws.cloudwatch_logs (log groups from the
//     resource plus Config.LogGroupNames), service.version.
//
// # Size
//
// A document always fits one daemon datagram (65,507 bytes with the daemon's
// header). One that would not is trimmed rather than lost: metadata goes
// first, then exception stacks, then cause, annotations and links, and last
// long URLs and SQL statements are cut to 250 bytes. [Encoder.Trimmed]
// counts the documents trimmed. Encoding a typical server span into a reused
// buffer allocates nothing.
package xraysegment
