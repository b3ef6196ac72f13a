package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/o11y-go/o11y/examples/internal/cfntest"
	"github.com/o11y-go/o11y/examples/internal/e2e"
	"github.com/o11y-go/o11y/examples/internal/orders"
)

var templates = []struct {
	file    string
	sidecar string
}{
	{"cloudformation/service-adot.yaml", "otel-collector"},
	{"cloudformation/service-xray-daemon.yaml", "xray-daemon"},
}

func load(t *testing.T, file string) *cfntest.Template {
	t.Helper()
	tmpl, err := cfntest.Load(file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return tmpl
}

// taskParts returns the task definition properties and its app and sidecar
// container definitions.
func taskParts(t *testing.T, tmpl *cfntest.Template, sidecar string) (task, app, side *yaml.Node) {
	t.Helper()
	ids := tmpl.ResourcesOfType("AWS::ECS::TaskDefinition")
	if len(ids) != 1 {
		t.Fatalf("want one task definition, have %v", ids)
	}
	task = cfntest.Get(tmpl.Resource(ids[0]), "Properties")
	defs := cfntest.Get(task, "ContainerDefinitions")
	app = cfntest.FindByKey(defs, "Name", "app")
	side = cfntest.FindByKey(defs, "Name", sidecar)
	if app == nil || side == nil {
		t.Fatalf("containers app and %s must exist", sidecar)
	}
	return task, app, side
}

func TestTemplatesParse(t *testing.T) {
	for _, tc := range templates {
		tmpl := load(t, tc.file)
		for _, typ := range []string{"AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::Logs::LogGroup"} {
			if len(tmpl.ResourcesOfType(typ)) != 1 {
				t.Errorf("%s: want exactly one %s", tc.file, typ)
			}
		}
		// Every !Ref names a parameter, a resource or a pseudo parameter.
		vars := tmpl.Vars()
		cfntest.Walk(tmpl.Root, func(n *yaml.Node) {
			if name, ok := cfntest.Ref(n); ok {
				if _, isVar := vars[name]; !isVar && tmpl.Resource(name) == nil && !strings.HasPrefix(name, "AWS::") {
					if _, isParam := vars[name]; !isParam && cfntest.Get(tmpl.Root, "Parameters", name) == nil {
						t.Errorf("%s:%d: !Ref %s names nothing", tc.file, n.Line, name)
					}
				}
			}
			if att, ok := cfntest.GetAtt(n); ok {
				if tmpl.Resource(strings.SplitN(att, ".", 2)[0]) == nil {
					t.Errorf("%s:%d: !GetAtt %s names no resource", tc.file, n.Line, att)
				}
			}
		})
	}
}

func TestTaskDefinition(t *testing.T) {
	for _, tc := range templates {
		t.Run(tc.file, func(t *testing.T) {
			tmpl := load(t, tc.file)
			task, app, side := taskParts(t, tmpl, tc.sidecar)
			env := e2e.ContainerEnv(t, tmpl, cfntest.Get(app, "Environment"))

			if got := cfntest.Strings(cfntest.Get(task, "RequiresCompatibilities")); len(got) != 1 || got[0] != "FARGATE" {
				t.Errorf("RequiresCompatibilities %v", got)
			}
			if m := cfntest.Str(cfntest.Get(task, "NetworkMode")); m != "awsvpc" {
				t.Errorf("NetworkMode %q: the sidecar is reached on 127.0.0.1 only in awsvpc", m)
			}
			if a, _ := cfntest.GetAtt(cfntest.Get(task, "TaskRoleArn")); a != "TaskRole.Arn" {
				t.Errorf("TaskRoleArn %q", a)
			}
			if a, _ := cfntest.GetAtt(cfntest.Get(task, "ExecutionRoleArn")); a != "ExecutionRole.Arn" {
				t.Errorf("ExecutionRoleArn %q", a)
			}

			// Port: the mapping, PORT and the load balancer agree.
			port, ok := cfntest.Int(cfntest.Get(app, "PortMappings", "0", "ContainerPort"))
			if !ok || strconv.Itoa(port) != env["PORT"] {
				t.Errorf("app ContainerPort %d, PORT env %q", port, env["PORT"])
			}
			lbs := cfntest.Get(tmpl.Resource("Service"), "Properties", "LoadBalancers")
			if lbs != nil {
				lb := cfntest.Get(lbs, "1", "0") // !If [cond, [ {…} ], NoValue]
				if cfntest.Str(cfntest.Get(lb, "ContainerName")) != "app" || cfntest.Str(cfntest.Get(lb, "ContainerPort")) != env["PORT"] {
					t.Errorf("load balancer targets %s:%s, want app:%s", cfntest.Str(cfntest.Get(lb, "ContainerName")), cfntest.Str(cfntest.Get(lb, "ContainerPort")), env["PORT"])
				}
			}

			// Telemetry environment.
			if env["OTEL_SERVICE_NAME"] != tmpl.Vars()["ServiceName"] {
				t.Errorf("OTEL_SERVICE_NAME %q", env["OTEL_SERVICE_NAME"])
			}
			if env["AWS_EMF_NAMESPACE"] == "" {
				t.Errorf("AWS_EMF_NAMESPACE not set: the alarm needs a known namespace")
			}
			if _, err := time.ParseDuration(env["O11Y_METRICS_FLUSH_INTERVAL"]); err != nil {
				t.Errorf("O11Y_METRICS_FLUSH_INTERVAL %q", env["O11Y_METRICS_FLUSH_INTERVAL"])
			}
			if !strings.Contains(env["OTEL_RESOURCE_ATTRIBUTES"], "service.version=") {
				t.Errorf("OTEL_RESOURCE_ATTRIBUTES %q has no service.version", env["OTEL_RESOURCE_ATTRIBUTES"])
			}

			// Shutdown: StopTimeout covers the service's own budget and
			// stays within Fargate's maximum.
			stop, ok := cfntest.Int(cfntest.Get(app, "StopTimeout"))
			if !ok || stop > 120 || time.Duration(stop)*time.Second <= orders.ShutdownTimeout {
				t.Errorf("app StopTimeout %d: want > %v and <= 120", stop, orders.ShutdownTimeout)
			}
			// Start order collector → app, so ECS stops the app first.
			deps := cfntest.Get(app, "DependsOn")
			dep := cfntest.FindByKey(deps, "ContainerName", tc.sidecar)
			if c := cfntest.Str(cfntest.Get(dep, "Condition")); c != "START" && c != "HEALTHY" {
				t.Errorf("app DependsOn %s condition %q, want START or HEALTHY", tc.sidecar, c)
			}
			if d := cfntest.Get(side, "DependsOn"); d != nil {
				t.Errorf("the sidecar must not depend on the app")
			}
			// Health check: the binary's own probe (distroless has no shell).
			hc := cfntest.Strings(cfntest.Get(app, "HealthCheck", "Command"))
			if len(hc) != 3 || hc[0] != "CMD" || hc[1] != "/orders" || hc[2] != "-healthcheck" {
				t.Errorf("app health check %v", hc)
			}

			// awslogs, non-blocking with a 25m buffer, on every container.
			for _, c := range cfntest.Seq(cfntest.Get(task, "ContainerDefinitions")) {
				name := cfntest.Str(cfntest.Get(c, "Name"))
				lc := cfntest.Get(c, "LogConfiguration")
				if d := cfntest.Str(cfntest.Get(lc, "LogDriver")); d != "awslogs" {
					t.Errorf("%s: LogDriver %q", name, d)
				}
				opts := cfntest.Get(lc, "Options")
				if m := cfntest.Str(cfntest.Get(opts, "mode")); m != "non-blocking" {
					t.Errorf("%s: awslogs mode %q, want non-blocking", name, m)
				}
				if b := cfntest.Str(cfntest.Get(opts, "max-buffer-size")); b != "25m" {
					t.Errorf("%s: awslogs max-buffer-size %q, want 25m", name, b)
				}
				if g, _ := cfntest.Ref(cfntest.Get(opts, "awslogs-group")); g != "AppLogGroup" {
					t.Errorf("%s: awslogs-group %q", name, g)
				}
				if cfntest.Str(cfntest.Get(opts, "awslogs-stream-prefix")) == "" {
					t.Errorf("%s: no awslogs-stream-prefix", name)
				}
				if ess, _ := cfntest.Bool(cfntest.Get(c, "Essential")); !ess {
					t.Errorf("%s: not essential", name)
				}
			}

			switch tc.sidecar {
			case "otel-collector":
				checkCollector(t, tmpl, side, env)
			case "xray-daemon":
				if env["AWS_XRAY_DAEMON_ADDRESS"] != "127.0.0.1:2000" {
					t.Errorf("AWS_XRAY_DAEMON_ADDRESS %q", env["AWS_XRAY_DAEMON_ADDRESS"])
				}
				if env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "" {
					t.Errorf("daemon variant must not set OTEL_EXPORTER_OTLP_ENDPOINT (it would switch the exporter to OTLP)")
				}
				pm := cfntest.Get(side, "PortMappings", "0")
				if cfntest.Str(cfntest.Get(pm, "ContainerPort")) != "2000" || cfntest.Str(cfntest.Get(pm, "Protocol")) != "udp" {
					t.Errorf("daemon port mapping, want 2000/udp")
				}
			}
		})
	}
}

func checkCollector(t *testing.T, tmpl *cfntest.Template, side *yaml.Node, appEnv map[string]string) {
	t.Helper()
	cmd := cfntest.Strings(cfntest.Get(side, "Command"))
	if len(cmd) != 1 || cmd[0] != "--config=env:AOT_CONFIG_CONTENT" {
		t.Errorf("collector command %v", cmd)
	}
	senv := e2e.ContainerEnv(t, tmpl, cfntest.Get(side, "Environment"))
	var conf map[string]any
	if err := yaml.Unmarshal([]byte(senv["AOT_CONFIG_CONTENT"]), &conf); err != nil {
		t.Fatalf("collector config: %v", err)
	}
	get := func(path ...string) any {
		var cur any = conf
		for _, p := range path {
			m, _ := cur.(map[string]any)
			cur = m[p]
		}
		return cur
	}
	endpoint, _ := get("receivers", "otlp", "protocols", "grpc", "endpoint").(string)
	want := appEnv["OTEL_EXPORTER_OTLP_ENDPOINT"]
	if want != "http://127.0.0.1:4317" || !strings.HasSuffix(want, ":"+strings.SplitN(endpoint, ":", 2)[1]) {
		t.Errorf("app OTLP endpoint %q vs collector gRPC receiver %q", want, endpoint)
	}
	traces, _ := get("service", "pipelines", "traces").(map[string]any)
	if fmt.Sprint(traces["receivers"]) != "[otlp]" || !strings.Contains(fmt.Sprint(traces["exporters"]), "awsxray") {
		t.Errorf("traces pipeline %v, want otlp → awsxray", traces)
	}
	for _, section := range []string{"receivers", "processors", "exporters", "extensions"} {
		m, _ := conf[section].(map[string]any)
		var used []any
		switch section {
		case "extensions":
			used, _ = get("service", "extensions").([]any)
		default:
			used, _ = traces[section].([]any)
		}
		for _, u := range used {
			if _, ok := m[fmt.Sprint(u)]; !ok {
				t.Errorf("collector config: %s %v used but not defined", section, u)
			}
		}
	}
}

func TestIAM(t *testing.T) {
	for _, tc := range templates {
		t.Run(tc.file, func(t *testing.T) {
			tmpl := load(t, tc.file)
			e2e.CheckRolesLeastPrivilege(t, tmpl)

			task := tmpl.Resource("TaskRole")
			if s := cfntest.AssumeRoleServices(task); len(s) != 1 || s[0] != "ecs-tasks.amazonaws.com" {
				t.Errorf("task role principals %v", s)
			}
			stmts := cfntest.RoleStatements(task)
			got := e2e.ActionSet(stmts)
			want := map[string]bool{"logs:CreateLogStream": true, "logs:PutLogEvents": true, "logs:DescribeLogStreams": true}
			for _, a := range e2e.XRayWriteActions {
				want[a] = true
			}
			for a := range want {
				if !got[a] {
					t.Errorf("task role lacks %s", a)
				}
			}
			for a := range got {
				if !want[a] {
					t.Errorf("task role has %s beyond X-Ray write and log-stream writes", a)
				}
			}
			for _, st := range stmts {
				isLogs := strings.HasPrefix(st.Actions[0], "logs:")
				for _, r := range st.Resources {
					if isLogs && cfntest.Str(r) == "*" {
						t.Errorf("logs permissions on Resource \"*\": scope them to the log group")
					}
				}
			}
			exec := tmpl.Resource("ExecutionRole")
			if s := cfntest.AssumeRoleServices(exec); len(s) != 1 || s[0] != "ecs-tasks.amazonaws.com" {
				t.Errorf("execution role principals %v", s)
			}
			if m := cfntest.Strings(cfntest.Get(exec, "Properties", "ManagedPolicyArns")); len(m) != 1 || !strings.HasSuffix(m[0], "/AmazonECSTaskExecutionRolePolicy") {
				t.Errorf("execution role policies %v", m)
			}
		})
	}
}

func TestDeploymentAlarm(t *testing.T) {
	for _, tc := range templates {
		t.Run(tc.file, func(t *testing.T) {
			tmpl := load(t, tc.file)
			_, app, _ := taskParts(t, tmpl, tc.sidecar)
			env := e2e.ContainerEnv(t, tmpl, cfntest.Get(app, "Environment"))

			// The alarm watches what the SDK really emits with this env.
			e2e.CheckAlarmMatchesSDK(t, tmpl, "FaultAlarm", env)

			props := cfntest.Get(tmpl.Resource("FaultAlarm"), "Properties")
			if ns, _ := cfntest.Ref(cfntest.Get(props, "Namespace")); ns != "MetricsNamespace" {
				t.Errorf("alarm namespace should be !Ref MetricsNamespace (as AWS_EMF_NAMESPACE), is %q", ns)
			}

			svc := cfntest.Get(tmpl.Resource("Service"), "Properties")
			if c := cfntest.Str(cfntest.Get(svc, "DeploymentController", "Type")); c != "ECS" {
				t.Errorf("deployment controller %q: alarms need the ECS controller", c)
			}
			dc := cfntest.Get(svc, "DeploymentConfiguration")
			alarms := cfntest.Get(dc, "Alarms")
			names := cfntest.Seq(cfntest.Get(alarms, "AlarmNames"))
			wired := false
			for _, n := range names {
				if r, _ := cfntest.Ref(n); r == "FaultAlarm" {
					wired = true
				}
			}
			if !wired {
				t.Errorf("FaultAlarm is not in DeploymentConfiguration.Alarms.AlarmNames")
			}
			for _, k := range []string{"Enable", "Rollback"} {
				if b, _ := cfntest.Bool(cfntest.Get(alarms, k)); !b {
					t.Errorf("Alarms.%s is not true", k)
				}
				if b, _ := cfntest.Bool(cfntest.Get(dc, "DeploymentCircuitBreaker", k)); !b {
					t.Errorf("DeploymentCircuitBreaker.%s is not true", k)
				}
			}
			if r, _ := cfntest.Ref(cfntest.Get(svc, "TaskDefinition")); r != "TaskDefinition" {
				t.Errorf("service task definition %q", r)
			}
		})
	}
}

func TestDashboard(t *testing.T) {
	for _, tc := range templates {
		t.Run(tc.file, func(t *testing.T) {
			tmpl := load(t, tc.file)
			ids := tmpl.ResourcesOfType("AWS::CloudWatch::Dashboard")
			body, isSub := cfntest.SubString(cfntest.Get(tmpl.Resource(ids[0]), "Properties", "DashboardBody"))
			if !isSub {
				t.Fatal("DashboardBody should be a !Sub")
			}
			vars := tmpl.Vars()
			vars["FaultAlarm.Arn"] = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:x"
			text, err := cfntest.Substitute(body, vars)
			if err != nil {
				t.Fatal(err)
			}
			var dash struct {
				Widgets []struct {
					Type       string
					Properties struct {
						Metrics [][]any
					}
				}
			}
			if err := json.Unmarshal([]byte(text), &dash); err != nil {
				t.Fatalf("dashboard body is not JSON after substitution: %v\n%s", err, text)
			}
			seen := map[string]bool{}
			for _, w := range dash.Widgets {
				for _, m := range w.Properties.Metrics {
					if len(m) != 5 {
						t.Errorf("metric row %v: want [namespace, name, Service, value, {stat}]", m)
						continue
					}
					if m[0] != vars["MetricsNamespace"] || m[2] != "Service" || m[3] != vars["ServiceName"] {
						t.Errorf("metric row %v does not match the SDK's namespace/[Service] dimension", m)
					}
					opts, _ := m[4].(map[string]any)
					seen[fmt.Sprintf("%v/%v", m[1], opts["stat"])] = true
				}
			}
			for _, want := range []string{"Latency/p50", "Latency/p99", "Error/Sum", "Fault/Sum"} {
				if !seen[want] {
					t.Errorf("dashboard lacks %s (has %v)", want, seen)
				}
			}
		})
	}
}

func TestDockerfile(t *testing.T) { e2e.Dockerfile(t, "Dockerfile", "./ecs", "/orders") }

func TestCfnLint(t *testing.T) {
	e2e.CfnLint(t, templates[0].file, templates[1].file, workerTemplate)
}
