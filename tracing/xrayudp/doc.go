// Package xrayudp sends ended OpenTelemetry spans to the X-Ray daemon (or the
// CloudWatch agent's X-Ray listener) over UDP, one segment document per
// datagram. The documents come from the translator, tracing/xraysegment,
// configured by [Options].Segments.
//
// [NewSpanProcessor] returns an [sdktrace.SpanProcessor] to register on the
// TracerProvider (the root package does this for you):
//
//	p, err := xrayudp.NewSpanProcessor(xrayudp.Options{DaemonAddress: os.Getenv("AWS_XRAY_DAEMON_ADDRESS")})
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
//
// Telemetry never slows the application: OnEnd neither blocks nor
// allocates. A sampled span goes into a bounded queue that one goroutine
// drains in batches, writing one datagram per span (with sendmmsg(2) on
// Linux). A full queue or a missing daemon drops and counts
// ([Processor.Stats]) and is reported through Options.ErrorHandler at most
// once a minute per kind, never returned to the application.
//
// The daemon reads a kernel-default receive buffer with one goroutine, and
// a datagram arriving while it is full is lost unseen by the sender, so
// the sender paces its writes: by the daemon socket's receive queue where
// it can see it, else by Options.SendRate and SendBurst.
//
// [Processor.ForceFlush] and [Processor.Shutdown] drain the queue by the
// context's deadline and name what was left unsent in their error.
// [NewExporter] offers the same sending as a plain [sdktrace.SpanExporter]
// for the SDK's BatchSpanProcessor. [ParseDaemonAddress] reads the
// AWS_XRAY_DAEMON_ADDRESS forms, including the daemon's separate TCP
// sampling proxy address.
package xrayudp
