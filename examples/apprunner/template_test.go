package main

import (
	"strings"
	"testing"

	"github.com/o11y-go/o11y/examples/internal/cfntest"
	"github.com/o11y-go/o11y/examples/internal/e2e"
	"github.com/o11y-go/o11y/examples/internal/orders"
)

const templateFile = "cloudformation/service.yaml"

func load(t *testing.T) *cfntest.Template {
	t.Helper()
	tmpl, err := cfntest.Load(templateFile)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func TestObservabilityConfiguration(t *testing.T) {
	tmpl := load(t)
	ids := tmpl.ResourcesOfType("AWS::AppRunner::ObservabilityConfiguration")
	if len(ids) != 1 {
		t.Fatalf("want one ObservabilityConfiguration, have %v", ids)
	}
	props := cfntest.Get(tmpl.Resource(ids[0]), "Properties")
	if v := cfntest.Str(cfntest.Get(props, "TraceConfiguration", "Vendor")); v != "AWSXRAY" {
		t.Errorf("TraceConfiguration.Vendor %q, want AWSXRAY", v)
	}
	name, ok := cfntest.Resolve(cfntest.Get(props, "ObservabilityConfigurationName"), tmpl.Vars())
	if !ok || len(name) < 4 || len(name) > 32 || name == "DefaultConfiguration" {
		t.Errorf("ObservabilityConfigurationName %q: 4-32 characters, not DefaultConfiguration", name)
	}
	svc := cfntest.Get(tmpl.Resource("Service"), "Properties")
	oc := cfntest.Get(svc, "ObservabilityConfiguration")
	if b, _ := cfntest.Bool(cfntest.Get(oc, "ObservabilityEnabled")); !b {
		t.Errorf("ObservabilityEnabled is not true")
	}
	if a, _ := cfntest.GetAtt(cfntest.Get(oc, "ObservabilityConfigurationArn")); a != ids[0]+".ObservabilityConfigurationArn" {
		t.Errorf("ObservabilityConfigurationArn %q", a)
	}
}

func TestServiceContract(t *testing.T) {
	tmpl := load(t)
	svc := cfntest.Get(tmpl.Resource("Service"), "Properties")
	hc := cfntest.Get(svc, "HealthCheckConfiguration")
	if p := cfntest.Str(cfntest.Get(hc, "Protocol")); p != "HTTP" {
		t.Errorf("health check protocol %q, want HTTP", p)
	}
	if p := cfntest.Str(cfntest.Get(hc, "Path")); p != orders.HealthPath {
		t.Errorf("health check path %q, want %q", p, orders.HealthPath)
	}
	for _, k := range []string{"Interval", "Timeout", "HealthyThreshold", "UnhealthyThreshold"} {
		if v, ok := cfntest.Int(cfntest.Get(hc, k)); !ok || v < 1 || v > 20 {
			t.Errorf("health check %s = %v: App Runner allows 1-20", k, cfntest.Str(cfntest.Get(hc, k)))
		}
	}
	img := cfntest.Get(svc, "SourceConfiguration", "ImageRepository")
	if p := cfntest.Str(cfntest.Get(img, "ImageConfiguration", "Port")); p != "8080" {
		t.Errorf("image port %q, want 8080 (the service's default PORT)", p)
	}
	env := e2e.ContainerEnv(t, tmpl, cfntest.Get(img, "ImageConfiguration", "RuntimeEnvironmentVariables"))
	if env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://localhost:4317" {
		t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT %q, want App Runner's collector at http://localhost:4317", env["OTEL_EXPORTER_OTLP_ENDPOINT"])
	}
	if !strings.Contains(env["OTEL_PROPAGATORS"], "xray") {
		t.Errorf("OTEL_PROPAGATORS %q lacks xray", env["OTEL_PROPAGATORS"])
	}
	if env["OTEL_SERVICE_NAME"] != tmpl.Vars()["ServiceName"] {
		t.Errorf("OTEL_SERVICE_NAME %q", env["OTEL_SERVICE_NAME"])
	}
	if env["PORT"] != "" {
		t.Errorf("PORT is App Runner's to set")
	}
	if a, _ := cfntest.GetAtt(cfntest.Get(svc, "InstanceConfiguration", "InstanceRoleArn")); a != "InstanceRole.Arn" {
		t.Errorf("InstanceRoleArn %q", a)
	}
	if a, _ := cfntest.GetAtt(cfntest.Get(svc, "SourceConfiguration", "AuthenticationConfiguration", "AccessRoleArn")); a != "AccessRole.Arn" {
		t.Errorf("AccessRoleArn %q", a)
	}
}

func TestIAM(t *testing.T) {
	tmpl := load(t)
	e2e.CheckRolesLeastPrivilege(t, tmpl)
	inst := tmpl.Resource("InstanceRole")
	if s := cfntest.AssumeRoleServices(inst); len(s) != 1 || s[0] != "tasks.apprunner.amazonaws.com" {
		t.Errorf("instance role principals %v", s)
	}
	got := e2e.ActionSet(cfntest.RoleStatements(inst))
	if len(got) != len(e2e.XRayWriteActions) {
		t.Errorf("instance role actions %v, want exactly the X-Ray write actions", got)
	}
	for _, a := range e2e.XRayWriteActions {
		if !got[a] {
			t.Errorf("instance role lacks %s", a)
		}
	}
	acc := tmpl.Resource("AccessRole")
	if s := cfntest.AssumeRoleServices(acc); len(s) != 1 || s[0] != "build.apprunner.amazonaws.com" {
		t.Errorf("access role principals %v", s)
	}
	if m := cfntest.Strings(cfntest.Get(acc, "Properties", "ManagedPolicyArns")); len(m) != 1 || !strings.HasSuffix(m[0], "/AWSAppRunnerServicePolicyForECRAccess") {
		t.Errorf("access role policies %v", m)
	}
}

func TestFaultAlarm(t *testing.T) {
	tmpl := load(t)
	img := cfntest.Get(tmpl.Resource("Service"), "Properties", "SourceConfiguration", "ImageRepository")
	env := e2e.ContainerEnv(t, tmpl, cfntest.Get(img, "ImageConfiguration", "RuntimeEnvironmentVariables"))
	e2e.CheckAlarmMatchesSDK(t, tmpl, "FaultAlarm", env)
}

func TestDockerfile(t *testing.T) { e2e.Dockerfile(t, "Dockerfile", "./apprunner", "/orders") }

func TestCfnLint(t *testing.T) { e2e.CfnLint(t, templateFile) }
