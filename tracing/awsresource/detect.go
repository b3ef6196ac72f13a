package awsresource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// DefaultTimeout bounds detection when ctx has no deadline.
const DefaultTimeout = 300 * time.Millisecond

// DefaultNamespaceFile is where Kubernetes mounts the pod's namespace.
const DefaultNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// Platform is a platform [Options].Platform forces: one of the constants
// below, or the short forms "ecs", "apprunner", "lambda", "eks", "ec2".
type Platform string

// The platforms, as their cloud.platform attribute values. They are untyped
// so they also compare with the attribute's string value.
//
// Without Options.Platform the first match wins: Lambda
// (AWS_LAMBDA_FUNCTION_NAME), ECS (a task metadata URI), Kubernetes
// (KUBERNETES_SERVICE_HOST), then EC2 when Options.DetectEC2 allows probing
// the instance metadata service. What each platform adds:
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
//   - EC2 (see Options.DetectEC2): cloud.region, cloud.availability_zone,
//     cloud.account.id, host.id, host.image.id, host.type and host.name from
//     the instance identity document and hostname.
const (
	PlatformECS       = "aws_ecs"
	PlatformAppRunner = "aws_app_runner"
	PlatformLambda    = "aws_lambda"
	PlatformEKS       = "aws_eks"
	PlatformEC2       = "aws_ec2"
	PlatformNone      = "none" // no platform detection, service attributes only
)

// Options configures [Detect]. The zero value detects nothing platform-wise
// (no environment is read without Getenv) and returns service and SDK
// attributes only.
type Options struct {
	// ServiceName, ServiceVersion and Environment set service.name,
	// service.version and deployment.environment.name (plus the older
	// deployment.environment). They win over Attributes.
	ServiceName    string
	ServiceVersion string
	Environment    string
	// Attributes are user resource attributes (OTEL_RESOURCE_ATTRIBUTES);
	// they win over detected values. A value for a key detected with a
	// non-string type is converted ("a&b" for string lists, numbers,
	// booleans); one that does not convert is dropped and reported.
	// telemetry.sdk.* cannot be overridden.
	Attributes map[string]string

	// Platform forces one platform instead of auto-detection; App Runner
	// can only be chosen this way (it exposes no identifying variable).
	Platform Platform
	// Getenv supplies the environment variables; the package reads none
	// by itself. Nil reads nothing: the root package passes os.Getenv.
	// Read are ECS_CONTAINER_METADATA_URI_V4, AWS_LAMBDA_FUNCTION_NAME,
	// AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
	// AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME,
	// KUBERNETES_SERVICE_HOST, AWS_REGION and AWS_DEFAULT_REGION.
	Getenv func(string) string
	// DetectEC2 enables the EC2 instance metadata (IMDS) probe, used on EC2
	// and EKS. Off by default: off AWS the probe costs the whole timeout.
	// The probe is a small IMDSv2 client, no AWS SDK: a session token from
	// PUT /latest/api/token, then GETs carrying it, with the IMDSv1
	// fallback the AWS SDKs make when the token endpoint answers 403, 404
	// or 405. One attempt per request, bound to ctx; an unreachable IMDS
	// only means "not EC2", while an IMDS that answers with an error is
	// reported.
	DetectEC2 bool

	// ECSMetadataURI overrides ECS_CONTAINER_METADATA_URI_V4.
	ECSMetadataURI string
	// IMDSEndpoint overrides the instance metadata endpoint (tests).
	IMDSEndpoint string
	// NamespaceFile overrides [DefaultNamespaceFile] (tests).
	NamespaceFile string
	// HTTPClient overrides the client for metadata endpoints. The default
	// ignores proxy settings (the endpoints are link-local).
	HTTPClient *http.Client
	// Timeout bounds detection when ctx has no deadline. Default 300ms.
	Timeout time.Duration
}

// Detect returns the process's resource: SDK and service attributes, the
// platform's attributes, then the user's Attributes over them. It never
// fails: err (possibly wrapping several problems) describes what could not
// be detected and is meant to be reported, while the returned resource is
// always usable. Detection honours ctx's deadline (or Options.Timeout);
// metadata endpoints are called without proxies, with bounded response
// sizes.
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
func Detect(ctx context.Context, opts Options) (*resource.Resource, error) {
	if _, ok := ctx.Deadline(); !ok {
		t := opts.Timeout
		if t <= 0 {
			t = DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	d := &detector{opts: opts, getenv: getenv, client: opts.HTTPClient}
	if d.client == nil {
		d.client = &http.Client{Transport: &http.Transport{
			Proxy:                 nil, // link-local endpoints: never through a proxy
			DialContext:           (&net.Dialer{}).DialContext,
			ResponseHeaderTimeout: time.Second,
			DisableKeepAlives:     true,
		}}
	}

	var errs []error
	var b builder
	sdkRes, err := resource.New(ctx, resource.WithTelemetrySDK())
	if err != nil {
		errs = append(errs, err)
	}
	schemaURL := ""
	if sdkRes != nil {
		schemaURL = sdkRes.SchemaURL()
		b.add(sdkRes.Attributes()...)
	}
	b.add(attribute.String(keyServiceName, defaultServiceName()))

	if err := d.detectPlatform(ctx, &b); err != nil {
		errs = append(errs, err)
	}
	if b.get(keyCloudProvider).Type() != attribute.EMPTY && b.get(keyCloudRegion).Type() == attribute.EMPTY {
		if r := firstNonEmpty(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")); r != "" {
			b.add(attribute.String(keyCloudRegion, r))
		}
	}

	if err := b.addUser(opts.Attributes); err != nil {
		errs = append(errs, err)
	}
	if opts.ServiceName != "" {
		b.add(attribute.String(keyServiceName, opts.ServiceName))
	}
	if opts.ServiceVersion != "" {
		b.add(attribute.String(keyServiceVersion, opts.ServiceVersion))
	}
	if opts.Environment != "" {
		b.add(attribute.String(keyDeploymentEnvName, opts.Environment))
		b.add(attribute.String(keyDeploymentEnv, opts.Environment))
	} else if v := b.get(keyDeploymentEnvName); v.Type() == attribute.STRING && b.get(keyDeploymentEnv).Type() == attribute.EMPTY {
		b.add(attribute.String(keyDeploymentEnv, v.AsString()))
	} else if v := b.get(keyDeploymentEnv); v.Type() == attribute.STRING && b.get(keyDeploymentEnvName).Type() == attribute.EMPTY {
		b.add(attribute.String(keyDeploymentEnvName, v.AsString()))
	}
	return resource.NewWithAttributes(schemaURL, b.kvs...), errors.Join(errs...)
}

func defaultServiceName() string {
	exe := "go"
	if len(os.Args) > 0 && os.Args[0] != "" {
		exe = filepath.Base(os.Args[0])
	}
	return "unknown_service:" + exe
}

type detector struct {
	opts   Options
	getenv func(string) string
	client *http.Client
}

// normalizePlatform maps the accepted spellings to cloud.platform values.
func normalizePlatform(p string) string {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "":
		return ""
	case "ecs", "aws_ecs", "fargate":
		return PlatformECS
	case "apprunner", "app_runner", "aws_app_runner":
		return PlatformAppRunner
	case "lambda", "aws_lambda":
		return PlatformLambda
	case "eks", "aws_eks", "k8s", "kubernetes":
		return PlatformEKS
	case "ec2", "aws_ec2":
		return PlatformEC2
	case "none", "off", "false", "local":
		return PlatformNone
	}
	return "unknown"
}

func (d *detector) detectPlatform(ctx context.Context, b *builder) error {
	platform := normalizePlatform(string(d.opts.Platform))
	ecsURI := d.opts.ECSMetadataURI
	if ecsURI == "" {
		ecsURI = d.getenv("ECS_CONTAINER_METADATA_URI_V4")
	}
	switch platform {
	case "unknown":
		return fmt.Errorf("awsresource: unknown platform %q (want ecs, apprunner, lambda, eks, ec2 or none)", d.opts.Platform)
	case PlatformNone:
		return nil
	case "":
		switch {
		case d.getenv("AWS_LAMBDA_FUNCTION_NAME") != "":
			platform = PlatformLambda
		case ecsURI != "":
			platform = PlatformECS
		case d.getenv("KUBERNETES_SERVICE_HOST") != "":
			platform = PlatformEKS
		case d.opts.DetectEC2:
			platform = PlatformEC2
		default:
			return nil
		}
	}
	switch platform {
	case PlatformLambda:
		d.lambda(b)
		return nil
	case PlatformAppRunner:
		b.add(attribute.String(keyCloudProvider, "aws"), attribute.String(keyCloudPlatform, PlatformAppRunner))
		return nil
	case PlatformECS:
		b.add(attribute.String(keyCloudProvider, "aws"), attribute.String(keyCloudPlatform, PlatformECS))
		if ecsURI == "" {
			return errors.New("awsresource: ECS: no task metadata endpoint (ECS_CONTAINER_METADATA_URI_V4 unset)")
		}
		return d.ecs(ctx, ecsURI, b)
	case PlatformEKS:
		return d.eks(ctx, b, d.opts.Platform != "")
	case PlatformEC2:
		ok, err := d.ec2(ctx, b)
		if err == nil && !ok {
			err = errors.New("awsresource: EC2: instance metadata not available")
		}
		return err
	}
	return nil
}

func (d *detector) lambda(b *builder) {
	b.add(attribute.String(keyCloudProvider, "aws"), attribute.String(keyCloudPlatform, PlatformLambda))
	addIf(b, keyFaaSName, d.getenv("AWS_LAMBDA_FUNCTION_NAME"))
	addIf(b, keyFaaSVersion, d.getenv("AWS_LAMBDA_FUNCTION_VERSION"))
	addIf(b, keyFaaSInstance, d.getenv("AWS_LAMBDA_LOG_STREAM_NAME"))
	if mb, err := strconv.ParseInt(d.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64); err == nil && mb > 0 {
		b.add(attribute.Int64(keyFaaSMaxMemory, mb<<20)) // semconv: bytes
	}
	if g := d.getenv("AWS_LAMBDA_LOG_GROUP_NAME"); g != "" {
		b.add(attribute.StringSlice(keyLogGroupNames, []string{g}))
		if s := d.getenv("AWS_LAMBDA_LOG_STREAM_NAME"); s != "" {
			b.add(attribute.StringSlice(keyLogStreamNames, []string{s}))
		}
	}
}

// eks sets Kubernetes attributes from the environment and the service
// account mount. cloud.platform=aws_eks needs evidence of AWS: the forced
// platform, an AWS region variable, or an answering IMDS.
func (d *detector) eks(ctx context.Context, b *builder, forced bool) error {
	var errs []error
	nsFile := d.opts.NamespaceFile
	if nsFile == "" {
		nsFile = DefaultNamespaceFile
	}
	if ns, err := readSmallFile(nsFile); err == nil {
		addIf(b, keyK8sNamespace, ns)
	} else if !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, fmt.Errorf("awsresource: EKS: namespace: %w", err))
	}
	if h, err := os.Hostname(); err == nil {
		addIf(b, keyK8sPodName, h) // a pod's hostname is its name
	}
	onAWS := forced || d.getenv("AWS_REGION") != "" || d.getenv("AWS_DEFAULT_REGION") != ""
	if d.opts.DetectEC2 {
		ok, err := d.ec2(ctx, b)
		if err != nil {
			errs = append(errs, err)
		}
		onAWS = onAWS || ok
	}
	if onAWS {
		b.add(attribute.String(keyCloudProvider, "aws"), attribute.String(keyCloudPlatform, PlatformEKS))
	}
	return errors.Join(errs...)
}

func readSmallFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, err := f.Read(buf)
	if n == 0 && err != nil {
		return "", err
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

func addIf(b *builder, key, v string) {
	if v != "" {
		b.add(attribute.String(key, v))
	}
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
