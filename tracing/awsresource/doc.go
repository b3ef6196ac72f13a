// Package awsresource detects the OpenTelemetry resource of a process running
// on AWS: ECS (Fargate and EC2 launch types), App Runner, Lambda, EKS and
// EC2, plus the service attributes every signal shares. The root package
// calls it at start-up; use it directly only with a tracer provider of your
// own:
//
//	res, err := awsresource.Detect(ctx, awsresource.Options{
//		ServiceName: "orders",
//		Getenv:      os.Getenv,
//	})
//	if err != nil {
//		log.Print(err) // what could not be detected; res is still usable
//	}
//	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res))
//
// [Detect] never fails a service and is bounded: it always returns a
// usable resource, stops at ctx's deadline (or Options.Timeout), and
// describes what it could not detect in its error, for the caller to report.
// The package reads no environment variable by itself: Options.Getenv
// supplies them, so tests pass their own. The platform is auto-detected or
// forced with Options.Platform, the only way to choose App Runner; the
// platform constants ([PlatformECS] and the rest) say how detection chooses
// and what each platform adds. EC2's instance metadata is probed only when
// Options.DetectEC2 is set. User attributes and service settings win over
// detected values, in the order [Detect] gives.
//
// [Origin] maps a resource to its X-Ray origin (the ServiceType sampling
// rules match) and [LogGroupNames] gives the log groups segments list.
package awsresource
