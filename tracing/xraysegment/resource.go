package xraysegment

import (
	"strings"
	"unicode/utf8"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// resInfo is everything a segment needs from its resource, pre-encoded.
type resInfo struct {
	res       *resource.Resource // the resource this was built from (cache key)
	segName   []byte             // quoted segment name from config or service.name; nil if none
	origin    string
	service   []byte // {"version":…} or nil
	awsFields []byte // `"ecs":{…},"xray":{…},…` without braces; may be empty
	meta      []byte // `"otel.resource.k":v,…` without braces; may be empty
	goStacks  bool   // exception.stacktrace values are in Go's runtime format
}

func resString(r *resource.Resource, key attribute.Key) string {
	if r == nil {
		return ""
	}
	v, ok := r.Set().Value(key)
	if !ok {
		return ""
	}
	if v.Type() == attribute.STRING {
		return v.AsString()
	}
	return v.String()
}

func resStrings(r *resource.Resource, key attribute.Key) []string {
	if r == nil {
		return nil
	}
	v, ok := r.Set().Value(key)
	if !ok {
		return nil
	}
	switch v.Type() {
	case attribute.STRINGSLICE:
		return v.AsStringSlice()
	case attribute.STRING:
		return strings.Split(v.AsString(), "&")
	}
	return nil
}

// originFor maps cloud.platform (and ECS launch type) to the segment origin.
func originFor(provider, platform, launchType string) string {
	if provider != "" && provider != "aws" {
		return ""
	}
	switch platform {
	case "aws_app_runner":
		return "AWS::AppRunner::Service"
	case "aws_eks":
		return "AWS::EKS::Container"
	case "aws_elastic_beanstalk":
		return "AWS::ElasticBeanstalk::Environment"
	case "aws_ec2":
		return "AWS::EC2::Instance"
	case "aws_ecs":
		switch strings.ToLower(launchType) {
		case "ec2":
			return "AWS::ECS::EC2"
		case "fargate":
			return "AWS::ECS::Fargate"
		}
		return "AWS::ECS::Container"
	}
	return ""
}

// objWriter writes `"k":"v"` members of one JSON object, skipping empty values.
type objWriter struct {
	b []byte
	n int
}

func (w *objWriter) str(key, val string) {
	if val == "" {
		return
	}
	w.b = jsonenc.AppendKey(w.b, key, w.n > 0)
	w.b = jsonenc.AppendStringTrunc(w.b, val, maxStringBytes, "")
	w.n++
}

func (w *objWriter) raw(key string, val []byte) {
	if len(val) == 0 {
		return
	}
	w.b = jsonenc.AppendKey(w.b, key, w.n > 0)
	w.b = append(w.b, val...)
	w.n++
}

func object(fill func(w *objWriter)) []byte {
	w := objWriter{b: []byte{'{'}}
	fill(&w)
	if w.n == 0 {
		return nil
	}
	return append(w.b, '}')
}

func (e *Encoder) buildResInfo(r *resource.Resource) *resInfo {
	ri := &resInfo{}
	get := func(k string) string { return resString(r, attribute.Key(k)) }

	name := e.cfg.SegmentName
	if name == "" {
		name = get("service.name")
	}
	if name != "" {
		if q := appendName(nil, name, ""); len(q) > 2 {
			ri.segName = q
		}
	}
	provider, platform := get("cloud.provider"), get("cloud.platform")
	ri.origin = originFor(provider, platform, get("aws.ecs.launchtype"))
	lang := get("telemetry.sdk.language")
	ri.goStacks = lang == "" || lang == "go"

	version := get("service.version")
	if version == "" {
		version = get("container.image.tag")
	}
	ri.service = object(func(w *objWriter) { w.str("version", version) })

	// aws block members.
	aws := objWriter{}
	if provider == "" || provider == "aws" {
		aws.str("account_id", get("cloud.account.id"))
		zone := get("cloud.availability_zone")
		if platform == "aws_ecs" {
			aws.raw("ecs", object(func(w *objWriter) {
				w.str("container", get("container.name"))
				w.str("container_id", get("container.id"))
				w.str("container_arn", get("aws.ecs.container.arn"))
				w.str("cluster_arn", get("aws.ecs.cluster.arn"))
				w.str("task_arn", get("aws.ecs.task.arn"))
				w.str("task_family", get("aws.ecs.task.family"))
				w.str("launch_type", strings.ToLower(get("aws.ecs.launchtype")))
				w.str("availability_zone", zone)
			}))
		}
		if platform == "aws_ec2" || (get("host.id") != "" && platform != "aws_ecs" && platform != "aws_eks" && platform != "aws_app_runner" && platform != "aws_lambda") {
			aws.raw("ec2", object(func(w *objWriter) {
				w.str("instance_id", get("host.id"))
				w.str("instance_size", get("host.type"))
				w.str("ami_id", get("host.image.id"))
				w.str("availability_zone", zone)
			}))
		}
		if platform == "aws_eks" || get("k8s.cluster.name") != "" {
			aws.raw("eks", object(func(w *objWriter) {
				w.str("pod", get("k8s.pod.name"))
				w.str("cluster_name", get("k8s.cluster.name"))
				w.str("container_id", get("container.id"))
			}))
		}
		aws.raw("cloudwatch_logs", e.logGroups(r))
	}
	sdkName, sdkLang := get("telemetry.sdk.name"), get("telemetry.sdk.language")
	sdk := "o11y for Go"
	if sdkName != "" && sdkLang != "" {
		sdk = sdkName + " for " + sdkLang
	}
	_, auto := r.Set().Value("telemetry.auto.version")
	if !auto {
		_, auto = r.Set().Value("telemetry.distro.version")
	}
	aws.raw("xray", object(func(w *objWriter) {
		w.str("sdk", sdk)
		w.str("sdk_version", get("telemetry.sdk.version"))
		w.raw("auto_instrumentation", jsonenc.AppendBool(nil, auto))
	}))
	ri.awsFields = aws.b

	if !e.cfg.DisableResourceMetadata && r != nil {
		var m []byte
		n := 0
		for it := r.Iter(); it.Next() && n < maxResourceEntries; {
			kv := it.Attribute()
			if k := string(kv.Key); k == "" || len(k) > maxStringBytes || !utf8.ValidString(k) {
				continue // skipped, not repaired: repaired keys could collide
			}
			if n > 0 {
				m = append(m, ',')
			}
			m = append(m, `"otel.resource.`...)
			m = jsonenc.AppendStringContents(m, string(kv.Key))
			m = append(m, '"', ':')
			m = appendValue(m, kv.Value, 0)
			n++
		}
		ri.meta = m
	}
	return ri
}

// logGroups encodes aws.cloudwatch_logs: resource ARNs, then resource
// names, then configured names, de-duplicated by group name.
func (e *Encoder) logGroups(r *resource.Resource) []byte {
	type group struct{ name, arn string }
	var groups []group
	seen := map[string]bool{}
	add := func(name, arn string) {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] || len(groups) >= 16 {
			return
		}
		seen[name] = true
		groups = append(groups, group{name, arn})
	}
	for _, arn := range resStrings(r, "aws.log.group.arns") {
		arn = strings.TrimSpace(arn)
		// arn:aws:logs:region:account:log-group:NAME[:*]
		parts := strings.Split(arn, ":")
		if len(parts) >= 7 {
			add(parts[6], arn)
		}
	}
	for _, n := range resStrings(r, "aws.log.group.names") {
		add(n, "")
	}
	for _, n := range e.cfg.LogGroupNames {
		add(n, "")
	}
	if len(groups) == 0 {
		return nil
	}
	b := []byte{'['}
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, object(func(w *objWriter) {
			w.str("log_group", g.name)
			w.str("arn", g.arn)
		})...)
	}
	return append(b, ']')
}
