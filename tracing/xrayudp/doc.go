// Package xrayudp sends ended OpenTelemetry spans to the X-Ray daemon (or the
// CloudWatch agent's X-Ray listener) over UDP, one segment document per
// datagram. The documents come from the translator, tracing/xraysegment;
// [Options].Segments configures it.
//
// [NewSpanProcessor] returns an [sdktrace.SpanProcessor] to register on the
// TracerProvider (the root package does this for you):
//
//	p, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: os.Getenv("AWS_XRAY_DAEMON_ADDRESS")})
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
//
// # Sending
//
// OnEnd never blocks and never allocates: a sampled span goes into a bounded
// queue (Options.QueueSize, default 2048) and one goroutine encodes it into
// one datagram — the daemon header plus one document — and writes it to a
// connected UDP socket. The goroutine is woken once per batch, not per span,
// and writes a batch with one sendmmsg(2) system call on Linux (one write
// per datagram elsewhere), under one write deadline. When the queue is full
// the span is dropped and counted ([Processor.Stats]); a missing daemon
// ("connection refused") is counted too, never returned to the application.
// Problems are reported through Options.ErrorHandler at most once a minute
// per kind.
//
// The daemon keeps the kernel-default receive buffer and reads it with one
// goroutine; a datagram arriving while that buffer is full is lost without
// any sign to the sender. So the goroutine paces its writes: where it can
// see the daemon's socket (Linux, same network namespace: an ECS sidecar, or
// both on the host network) it reads that socket's receive queue and writes
// only while the queue is under half the buffer; elsewhere it sends bursts
// of Options.SendBurst at Options.SendRate. A daemon that stops reading
// costs the batch in hand and later batches until it reads again (dropped
// and counted).
//
// [Processor.ForceFlush] and [Processor.Shutdown] drain the queue within the
// context deadline; whatever is unsent when it passes is counted as dropped
// and named in the returned error. [NewExporter] offers the same sending as
// a plain [sdktrace.SpanExporter] for the SDK's BatchSpanProcessor.
//
// # Address
//
// The daemon address uses the AWS_XRAY_DAEMON_ADDRESS forms, parsed by
// [ParseDaemonAddress]: "host:port" or "tcp:host:port udp:host:port" (IPv6
// literals in brackets are accepted); the TCP address is the daemon's
// sampling proxy. A datagram never exceeds [MaxDatagramSize]: the translator
// trims documents to fit.
package xrayudp
