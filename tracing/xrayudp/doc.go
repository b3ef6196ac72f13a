// Package xrayudp turns ended OpenTelemetry spans into AWS X-Ray segment
// documents and sends them to the X-Ray daemon (or the CloudWatch agent's
// X-Ray listener) over UDP.
//
// # Sending
//
// [NewSpanProcessor] returns an [sdktrace.SpanProcessor] to register on the
// TracerProvider. Its OnEnd never blocks and never allocates: a sampled span
// goes into a bounded queue (Options.QueueSize, default 2048) and one
// goroutine encodes it into one datagram — the daemon [Header] plus one
// document — and writes it to a connected UDP socket. The goroutine is woken
// once per batch, not per span (when [SendBatch] spans wait, or [Linger]
// after the first), and writes up to [SendBatch] datagrams with one
// sendmmsg(2) system call on Linux (one write per datagram elsewhere), under
// one write deadline. When the queue is full the span is dropped and
// counted ([Processor.Stats]); a missing daemon ("connection refused") is
// counted too, never returned to the application.
//
// The daemon keeps the kernel-default receive buffer and reads it with one
// goroutine; a datagram arriving while that buffer is full is lost without
// any sign to the sender. So the goroutine paces its writes: where it can
// see the daemon's socket (Linux, same network namespace: an ECS sidecar,
// or both on the host network) it reads that socket's receive queue and
// writes only while the queue is under half the buffer; elsewhere it sends
// bursts of Options.SendBurst at Options.SendRate. A daemon that stops
// reading for a second costs the batch in hand, and later batches until it
// reads again (dropped and counted); when Shutdown's deadline passes,
// whatever is unsent is counted as dropped. Problems are reported
// through Options.ErrorHandler at most once a minute per kind.
// [Processor.ForceFlush] and [Processor.Shutdown] drain the queue within the
// context deadline and name the number of unsent spans otherwise.
//
// [NewExporter] offers the same encoder as a plain [sdktrace.SpanExporter]
// for use with the SDK's BatchSpanProcessor.
//
// The daemon address uses the AWS_XRAY_DAEMON_ADDRESS forms, parsed by
// [ParseDaemonAddress]: "host:port" or "tcp:host:port udp:host:port"
// (IPv6 literals in brackets are accepted).
//
// # Translation
//
// [Encoder.AppendSegment] follows the rules of the OpenTelemetry collector's
// X-Ray exporter, with the corrections our SDK needs:
//
//   - SERVER and CONSUMER spans, and spans without a parent, become segments;
//     every other span becomes an independent subsegment ("type":"subsegment",
//     "parent_id" = parent span id) with namespace "aws" for AWS SDK calls
//     (rpc.system.name or rpc.system = aws-api), "remote" for CLIENT and
//     PRODUCER spans.
//   - AWS SDK calls (otelaws, both key generations) are named after the
//     service (rpc.service, or rpc.method "DynamoDB/GetItem" before the
//     '/') and carry aws.operation, region, request_id, retries and the
//     resource fields (table_name(s), queue_url, bucket_name, key,
//     topic_arn, function_name, stream_name); see docs/AWS-CALLS.md.
//   - Segment names: Config.SegmentName, else aws.local.service, else the
//     resource's service.name. Subsegment names: peer.service,
//     aws.remote.service, aws.service, the AWS service, db.name@host,
//     server.address (CLIENT/PRODUCER), rpc.service, else the span name —
//     all sanitised to X-Ray's character set and cut to 200 bytes.
//   - http from both HTTP semantic-convention generations (url.full, else
//     scheme://host[:port]path?query); on segments client_ip, with
//     x_forwarded_for:true when client.address differs from (or comes
//     without) network.peer.address; traced:true on CLIENT subsegments of
//     HTTP and gRPC calls (whose callee sends its own segment), never on
//     AWS SDK, database or messaging calls.
//   - fault/error/throttle from the HTTP status (4xx error, 429 throttle,
//     5xx fault; on AWS calls an AWS throttling error code in
//     rpc.response.status_code adds throttle), else the gRPC status code (rpc.grpc.status_code: client
//     codes error, ResourceExhausted error+throttle, server codes fault),
//     else the span status.
//   - aws.span.kind=LOCAL_ROOT on a CLIENT or PRODUCER span yields two
//     documents: a service segment and the dependency subsegment under it
//     (see [Encoder.AppendLocalRootSegment]).
//   - cause.exceptions from "exception" events, with Go stack traces parsed
//     into frames (32 at most, the rest counted in "truncated").
//   - annotations: attributes named in Config.IndexedAttributes or in the
//     span's [AnnotationsKey] string-slice attribute, scalar values only,
//     keys reduced to [A-Za-z0-9_], at most 50, string values cut at X-Ray's
//     250 characters. Other attributes go to metadata.default (bounded: 64
//     entries, values cut at 1 KiB), except aws.xray.metadata.<ns>
//     attributes holding a JSON object, which become metadata.<ns>.
//   - URLs and SQL statements are kept whole up to 8 KiB and 16 KiB.
//   - SQL spans (db.system.name a SQL system, e.g. from otelsql) get a sql
//     block: database_type, url, sanitized_query, user, preparation.
//   - From the resource (computed once per resource): origin from
//     cloud.platform, aws.ecs / aws.ec2 / aws.eks, aws.xray SDK info,
//     aws.cloudwatch_logs from aws.log.group.arns / aws.log.group.names plus
//     Config.LogGroupNames, service.version.
//
// # Size
//
// A datagram never exceeds [MaxDatagramSize] (65,507 bytes). A document that
// would is trimmed rather than lost: metadata goes first, then exception
// stacks, then cause, annotations and links, and last long URLs and SQL
// statements are cut to 250 bytes.
//
// # Cost
//
// Encoding a typical server span (about ten attributes) into a reused buffer
// allocates nothing; OnEnd allocates nothing.
package xrayudp
