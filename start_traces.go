package o11y

import (
	"context"
	"errors"
	"strings"
	"sync"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/configerr"
	"github.com/o11y-go/o11y/internal/otlpexport"
	"github.com/o11y-go/o11y/internal/spanbatch"
	"github.com/o11y-go/o11y/internal/version"
	"github.com/o11y-go/o11y/tracing"
	"github.com/o11y-go/o11y/tracing/awsresource"
	"github.com/o11y-go/o11y/tracing/xraysampling"
	"github.com/o11y-go/o11y/tracing/xraysegment"
	"github.com/o11y-go/o11y/tracing/xrayudp"
)

// startTracing builds the resource, sampler, exporter and tracer provider.
// Every failure is reported (once, here) and degrades one piece; none stops
// the others. Config.validate has already replaced unusable values.
func (s *SDK) startTracing(ctx context.Context) (errs []error) {
	cfg := s.cfg
	// The OTLP exporter and batch processor report their unusable values
	// themselves, as *ConfigError; Start's error joins them too.
	var mu sync.Mutex
	var fromOTLP []error
	collecting := true
	defer func() {
		for i, err := range errs {
			errs[i] = wrapReport("tracing", err)
			var ce *ConfigError
			if errors.As(errs[i], &ce) {
				// Unusable TLS files: otlpexport.New returns them.
				s.reporter.Report(configKey(ce), errs[i])
				continue
			}
			s.reporter.Report("tracing:"+errs[i].Error(), errs[i])
		}
		mu.Lock()
		collecting = false
		errs = append(errs, fromOTLP...)
		mu.Unlock()
	}()

	res := s.detectResource(ctx)
	s.resource = res

	// Propagators.
	prop, err := tracing.ParsePropagators(cfg.Traces.Propagators...)
	if err != nil {
		errs = append(errs, err)
	}
	s.propagator = prop

	// Sampler: X-Ray rules for root decisions, parent-based on top.
	segmentName := cfg.Traces.SegmentName
	if segmentName == "" {
		segmentName = cfg.ServiceName
	}
	_, tcpAddr, addrErr := xrayudp.ParseDaemonAddress(cfg.Traces.DaemonAddress)
	xs, err := xraysampling.New(xraysampling.Options{
		ServiceName:  segmentName,
		ServiceType:  awsresource.Origin(res),
		RulesFile:    cfg.Traces.SamplingRulesFile,
		Centralized:  cfg.Traces.CentralizedSampling && addrErr == nil,
		ProxyAddress: tcpAddr,
		ErrorHandler: s.errorHandler("sampling"),
	})
	if err != nil {
		name, shown := cfg.source("Traces.SamplingRulesFile", cfg.Traces.SamplingRulesFile, nil, "O11Y_XRAY_SAMPLING_RULES")
		errs = append(errs, configerr.New(name, shown, trimPackagePrefix(err.Error()), "X-Ray default rule: 1 req/s + 5 %"))
	}
	if xs != nil {
		s.shutdowns = append(s.shutdowns, namedShutdown{"sampling", xs.Shutdown})
	}
	var root sdktrace.Sampler
	if xs != nil {
		root = xs
	}
	sampler, err := tracing.SamplerFromName(string(cfg.Traces.Sampler), cfg.Traces.SamplerArg, root)
	if err != nil {
		errs = append(errs, err)
	}

	limits := sdktrace.SpanLimits{
		AttributeValueLengthLimit:   cfg.Traces.MaxAttributeLength,
		AttributeValueDepthLimit:    sdktrace.DefaultAttributeValueDepthLimit,
		AttributeCountLimit:         sdktrace.DefaultAttributeCountLimit,
		EventCountLimit:             sdktrace.DefaultEventCountLimit,
		LinkCountLimit:              sdktrace.DefaultLinkCountLimit,
		AttributePerEventCountLimit: sdktrace.DefaultAttributePerEventCountLimit,
		AttributePerLinkCountLimit:  sdktrace.DefaultAttributePerLinkCountLimit,
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithRawSpanLimits(limits),
		sdktrace.WithResource(res),
		sdktrace.WithIDGenerator(tracing.NewIDGenerator()),
		sdktrace.WithSampler(sampler),
	}

	// Exporter.
	exporter := cfg.Traces.Exporter
	if exporter == "" {
		exporter = ExporterXRay
		if otlpChosen(&cfg.Traces, cfg.env()) {
			exporter = ExporterOTLP
		}
	}
	switch exporter {
	case ExporterNone:
	case ExporterXRay:
		p, err := xrayudp.NewSpanProcessor(xrayudp.Options{
			DaemonAddress: cfg.Traces.DaemonAddress,
			QueueSize:     cfg.Traces.QueueSize,
			Segments: xraysegment.Config{
				SegmentName:   cfg.Traces.SegmentName,
				LogGroupNames: cfg.Traces.LogGroupNames,
				// Request ids are searchable in X-Ray by default.
				IndexedAttributes: append([]string{"http.request.id"}, cfg.Traces.IndexedAttributes...),
			},
			ErrorHandler: s.errorHandler("xray"),
		})
		if err != nil {
			errs = append(errs, err)
			break
		}
		s.xray = p
		opts = append(opts, sdktrace.WithSpanProcessor(p))
	case ExporterOTLP:
		otlpReport := s.errorHandler("otlp")
		report := func(err error) {
			var ce *ConfigError
			if errors.As(err, &ce) {
				mu.Lock()
				if collecting {
					fromOTLP = append(fromOTLP, err)
				}
				mu.Unlock()
			}
			otlpReport(err)
		}
		exp, err := newOTLPExporter(&cfg, report)
		if err != nil {
			errs = append(errs, err)
			break
		}
		abortable := otlpexport.NewAbortable(exp, s.errorHandler("otlp"))
		s.otlp = abortable
		s.otlpBatch = spanbatch.New(abortable, spanbatch.Options{
			QueueSize: cfg.Traces.QueueSize,
			Getenv:    cfg.env(),
			Report:    report,
		})
		opts = append(opts, sdktrace.WithSpanProcessor(s.otlpBatch))
	}
	for _, sp := range cfg.Traces.SpanProcessors {
		opts = append(opts, sdktrace.WithSpanProcessor(sp))
	}

	// The OTel SDK reads OTEL_TRACES_SAMPLER itself here (our sampler then
	// replaces its choice); Start keeps its complaints quiet.
	tp := sdktrace.NewTracerProvider(opts...)
	s.sdkTP = tp
	s.tp = tp
	s.tracer = version.Tracer(tp, scopeName)
	xray, batch := s.xray, s.otlpBatch
	shutdown := func(ctx context.Context) error {
		err := tp.Shutdown(ctx)
		if ctx.Err() != nil {
			// The provider stops calling processors once ctx has ended;
			// stop ours anyway so their goroutines end. A processor
			// already shut down returns nil.
			err = errors.Join(err, xray.Shutdown(ctx), batch.Shutdown(ctx))
		}
		return err
	}
	s.shutdowns = append(s.shutdowns, namedShutdown{"traces", shutdown})
	return errs
}

// detectResource runs platform detection within DetectTimeout. Detection
// problems are reported, never fatal.
func (s *SDK) detectResource(ctx context.Context) *resource.Resource {
	cfg := s.cfg
	// Platform detection reads the platform's own variables
	// (ECS_CONTAINER_METADATA_URI_V4, AWS_LAMBDA_FUNCTION_NAME, …).
	getenv := cfg.env()
	opts := awsresource.Options{
		ServiceName:    cfg.ServiceName,
		ServiceVersion: cfg.ServiceVersion,
		Environment:    cfg.Environment,
		Attributes:     cfg.ResourceAttributes,
		Platform:       awsresource.Platform(cfg.Platform),
		Getenv:         getenv,
		DetectEC2:      cfg.DetectEC2,
		Timeout:        cfg.DetectTimeout,
	}
	if cfg.DisableResourceDetection {
		opts.Getenv = func(string) string { return "" }
		opts.DetectEC2 = false
		opts.Platform = ""
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.DetectTimeout)
	defer cancel()
	res, err := awsresource.Detect(dctx, opts)
	if err != nil {
		s.reportError("resource detection", err)
	}
	if res == nil {
		res = resource.Empty()
	}
	return res
}

// newOTLPExporter builds the SDK's own OTLP exporter (internal/otlpexport:
// same wire content as the upstream exporters, encoded without building
// message structs). It does not dial, so an unreachable collector never
// blocks Start. Fields left empty fall back to the OTEL_EXPORTER_OTLP_*
// variables, read by otlpexport with the specification's rules; it checks
// every value and reports an unusable one as a *ConfigError, naming the
// variable, or the Config.Traces field for a value set in code.
func newOTLPExporter(cfg *Config, reportErr func(error)) (*otlpexport.Exporter, error) {
	tc := cfg.Traces
	return otlpexport.New(otlpexport.Options{
		Endpoint:    cfg.setInCode(tc.OTLPEndpoint, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
		Protocol:    cfg.setInCode(string(tc.OTLPProtocol), "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
		Headers:     tc.OTLPHeaders,
		Compression: string(tc.OTLPCompression),
		Timeout:     tc.OTLPTimeout,
		Insecure:    tc.OTLPInsecure,
		TLSConfig:   tc.OTLPTLSConfig,
		FieldPrefix: "Config.Traces.OTLP",
		Getenv:      cfg.env(),
		Report:      reportErr,
	})
}

// setInCode returns value, or "" when ConfigFromEnv copied it from the
// first of vars that is set: otlpexport then reads that variable itself,
// with the same result, and names it in its reports.
func (c *Config) setInCode(value string, vars ...string) string {
	if c.getenv == nil {
		return value
	}
	for _, v := range vars {
		if e := strings.TrimSpace(c.getenv(v)); e != "" {
			if e == strings.TrimSpace(value) {
				return ""
			}
			break
		}
	}
	return value
}
