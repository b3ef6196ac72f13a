// Package awsresource detects the OpenTelemetry resource of a process running
// on AWS: ECS (Fargate and EC2 launch types), App Runner, Lambda, EKS and
// EC2, plus the service attributes every signal shares.
//
// # Never fatal, always bounded
//
// [Detect] always returns a usable resource. What could not be detected is
// described by the returned error, which callers report and otherwise ignore.
// Detection ends at ctx's deadline, or after Options.Timeout (300 ms) when
// ctx has none; metadata endpoints are called without proxies, and with
// bounded response sizes.
//
// # Environment as input
//
// The package reads no environment variable by itself: Options.Getenv (set
// to os.Getenv by the root package) supplies them. Read are
// ECS_CONTAINER_METADATA_URI_V4, AWS_LAMBDA_FUNCTION_NAME,
// AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME,
// KUBERNETES_SERVICE_HOST, AWS_REGION and AWS_DEFAULT_REGION.
//
// # Platforms
//
// Without Options.Platform the first match wins: Lambda
// (AWS_LAMBDA_FUNCTION_NAME), ECS (a task metadata URI), Kubernetes
// (KUBERNETES_SERVICE_HOST), then EC2 when Options.DetectEC2 allows probing the
// instance metadata service.
//
//   - ECS: this container's task metadata v4 and /task give cloud.region and
//     cloud.account.id (from the task ARN), cloud.availability_zone,
//     aws.ecs.cluster.arn (rebuilt from a short cluster name),
//     aws.ecs.task.arn/.id/.family/.revision, aws.ecs.launchtype (lower
//     case), aws.ecs.service.name when ECS reports it, aws.ecs.container.arn,
//     container.name/.id/.image.name/.image.tag, and for the awslogs driver
//     aws.log.group.names/.arns and aws.log.stream.names/.arns (a missing
//     stream or region is tolerated).
//   - App Runner exposes nothing identifying, so it is chosen with
//     Platform "apprunner"; the region comes from AWS_REGION when set.
//   - Lambda: faas.name, faas.version, faas.instance, faas.max_memory and the
//     function's log group and stream.
//   - EKS: k8s.namespace.name from the service-account mount and k8s.pod.name
//     from the hostname; cloud.platform=aws_eks only with evidence of AWS (a
//     region variable, an answering IMDS, or Platform "eks"). The contrib EKS
//     detector is not used: it needs the Kubernetes client libraries.
//   - EC2: a small IMDSv2 client (a session token from PUT /latest/api/token,
//     then GETs carrying it; the IMDSv1 fallback the AWS SDKs make when the
//     token endpoint answers 403, 404 or 405) reads the instance identity
//     document and hostname: cloud.region, cloud.availability_zone,
//     cloud.account.id, host.id, host.image.id, host.type and host.name. One
//     attempt per request, bound to ctx; an unreachable IMDS only means "not
//     EC2", while an IMDS that answers with an error is reported. No AWS SDK
//     is linked.
//
// # Precedence
//
// From weakest to strongest: telemetry.sdk.* and service.name
// "unknown_service:<executable>", detected attributes, Options.Attributes
// (the user's OTEL_RESOURCE_ATTRIBUTES), then Options.ServiceName,
// ServiceVersion and Environment. User values keep the detected type (for
// example "a&b" becomes a list for aws.log.group.names); telemetry.sdk.*
// cannot be overridden. deployment.environment.name and the older
// deployment.environment are both set. The resource carries the SDK's
// semantic-conventions schema URL, so resource.Merge with resource.Default
// works.
//
// [Origin] maps a resource to its X-Ray origin (the ServiceType sampling
// rules match) and [LogGroupNames] gives the log groups segments list.
package awsresource
