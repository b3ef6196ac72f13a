// Package o11y gives a Go service on AWS (ECS, App Runner, EKS, EC2)
// X-Ray-compatible traces on the OpenTelemetry SDK, CloudWatch EMF metrics
// and JSON logs on log/slog, sharing the ids that link a metric to its
// trace and log lines. The README holds the full reference: every
// environment variable, what each package records, figures.
//
// [Start] sets up every signal and returns an [*SDK]; [SDK.Shutdown] flushes
// them all by its context's deadline. In production, configure it from the
// environment, and give Shutdown a deadline:
//
//	sdk, _ := o11y.Start(ctx, o11y.ConfigFromEnv())
//	defer func() {
//		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//		defer cancel()
//		sdk.Shutdown(ctx)
//	}()
//	http.ListenAndServe(":8080", httpmw.New(sdk)(mux))
//
// [Config]'s zero value works (X-Ray daemon at 127.0.0.1:2000, EMF and logs
// on stdout); set fields in code where the environment does not fit. Fields
// that take one of a few strings have named types and constants
// ([ExporterOTLP], [SamplerAlwaysOn], [PlatformAppRunner], …); boolean
// fields are off by default, and those named Disable… turn a default
// behaviour off. The middleware packages and o11ytest take the *SDK; a
// nil *SDK means [Default], the one the last Start installed, which is
// also the OpenTelemetry global unless Config.DisableGlobals is set.
//
// Start never blocks on the network and never fails a service: an unusable
// value is replaced by its documented fallback and reported once, as a
// [*ConfigError], through Config.ErrorHandler (default: a JSON line on
// stderr); Start's error joins the same reports for programs that prefer
// to refuse to start. Runtime problems (export failures, drops) go to the
// same handler, rate-limited, and [SDK.Stats] counts what was dropped.
package o11y
