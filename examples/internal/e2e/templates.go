package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/o11y-go/o11y"
	"github.com/o11y-go/o11y/examples/internal/cfntest"
	"github.com/o11y-go/o11y/internal/emfvalidate"
	"github.com/o11y-go/o11y/metrics"
)

// EmitWithEnv starts the real SDK with exactly the environment a template
// gives the app container (every other OTEL_/AWS_/O11Y_ variable cleared),
// records one faulting, one failing and one good request, shuts down, and
// returns the EMF documents written. It lets template tests compare an
// alarm's namespace, metric and dimensions with what the SDK really emits.
// It uses t.Setenv, so the test must not be parallel.
func EmitWithEnv(t *testing.T, env map[string]string) []*emfvalidate.Doc {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "O11Y_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg := o11y.ConfigFromEnv()
	var out bytes.Buffer
	cfg.Output = &out
	cfg.DisableGlobals = true
	cfg.DisableResourceDetection = true
	cfg.Traces.Exporter = "none"
	cfg.Traces.OTLPEndpoint = ""
	sdk, err := o11y.Start(context.Background(), cfg)
	if err != nil {
		t.Logf("o11y.Start: %v", err)
	}
	ctx := context.Background()
	op := sdk.Metrics().Operation("GET /orders/{id}")
	op.Observe(ctx, 3*time.Millisecond, metrics.FlagFault)
	op.Observe(ctx, 2*time.Millisecond, metrics.FlagError)
	op.Observe(ctx, time.Millisecond, 0)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sdk.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	var docs []*emfvalidate.Doc
	for _, line := range Lines(out.Bytes()) {
		if !emfvalidate.IsEMF(line) {
			continue
		}
		d, err := emfvalidate.Parse(line)
		if err != nil {
			t.Fatalf("SDK wrote invalid EMF: %v\n%s", err, line)
		}
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		t.Fatalf("SDK wrote no EMF documents; output:\n%s", out.Bytes())
	}
	return docs
}

// ContainerEnv resolves a container's Environment (or App Runner's
// RuntimeEnvironmentVariables) list with the template's parameter defaults.
func ContainerEnv(t *testing.T, tmpl *cfntest.Template, list *yaml.Node) map[string]string {
	t.Helper()
	vars := tmpl.Vars()
	env := map[string]string{}
	for k, n := range cfntest.NameValues(list) {
		v, ok := cfntest.Resolve(n, vars)
		if !ok {
			t.Errorf("env %s: cannot resolve value at line %d", k, n.Line)
			continue
		}
		env[k] = v
	}
	return env
}

// CheckAlarmMatchesSDK checks that the alarm resource watches a metric the
// SDK really emits with the app's environment: same namespace, metric name,
// dimension names (as a whole set) and dimension values.
func CheckAlarmMatchesSDK(t *testing.T, tmpl *cfntest.Template, alarmID string, appEnv map[string]string) {
	t.Helper()
	alarm := tmpl.Resource(alarmID)
	if alarm == nil || cfntest.Str(cfntest.Get(alarm, "Type")) != "AWS::CloudWatch::Alarm" {
		t.Fatalf("no AWS::CloudWatch::Alarm %s", alarmID)
	}
	props := cfntest.Get(alarm, "Properties")
	vars := tmpl.Vars()
	ns, ok := cfntest.Resolve(cfntest.Get(props, "Namespace"), vars)
	if !ok {
		t.Fatalf("alarm namespace does not resolve")
	}
	metric := cfntest.Str(cfntest.Get(props, "MetricName"))
	if metric != metrics.MetricFault {
		t.Errorf("alarm metric %q, want %q", metric, metrics.MetricFault)
	}
	var dimNames []string
	dimValues := map[string]string{}
	for _, d := range cfntest.Seq(cfntest.Get(props, "Dimensions")) {
		name := cfntest.Str(cfntest.Get(d, "Name"))
		v, ok := cfntest.Resolve(cfntest.Get(d, "Value"), vars)
		if !ok {
			t.Errorf("alarm dimension %s does not resolve", name)
		}
		dimNames = append(dimNames, name)
		dimValues[name] = v
	}
	if len(dimNames) != 1 || dimNames[0] != metrics.DimService {
		t.Errorf("alarm dimensions %v, want exactly [%s] (the stable set that survives deployments)", dimNames, metrics.DimService)
	}
	if got, want := dimValues[metrics.DimService], appEnv["OTEL_SERVICE_NAME"]; got != want {
		t.Errorf("alarm Service dimension %q, app OTEL_SERVICE_NAME %q", got, want)
	}
	if stat := cfntest.Str(cfntest.Get(props, "Statistic")); stat != "Sum" {
		t.Errorf("alarm statistic %q, want Sum (Fault is a 0/1 count per request)", stat)
	}

	docs := EmitWithEnv(t, appEnv)
	matched := false
	for _, d := range docs {
		if !HasDimensionSet(d, ns, metric, dimNames...) {
			continue
		}
		all := true
		for k, v := range dimValues {
			if d.Members[k] != v {
				all = false
			}
		}
		if all {
			matched = true
			if MetricSum(t, d.Members[metric]) != 1 {
				t.Errorf("SDK Fault sum = %v after one faulting request", d.Members[metric])
			}
		}
	}
	if !matched {
		var dirs []string
		for _, d := range docs {
			for _, dir := range d.Directives {
				dirs = append(dirs, dir.Namespace)
			}
		}
		t.Errorf("the SDK, run with the template's environment, emits no %s metric in namespace %q with dimensions %v=%v (namespaces seen: %v)",
			metric, ns, dimNames, dimValues, dirs)
	}
}

// CheckRolesLeastPrivilege checks every inline IAM statement in the
// template: Allow only, no wildcard actions ("*" or "service:*").
func CheckRolesLeastPrivilege(t *testing.T, tmpl *cfntest.Template) {
	t.Helper()
	for _, typ := range []string{"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"} {
		for _, id := range tmpl.ResourcesOfType(typ) {
			for _, st := range cfntest.RoleStatements(tmpl.Resource(id)) {
				if st.Effect != "Allow" {
					t.Errorf("%s/%s: unexpected effect %q", id, st.Policy, st.Effect)
				}
				for _, a := range st.Actions {
					if a == "*" || strings.HasSuffix(a, ":*") || strings.Contains(a, "*") {
						t.Errorf("%s/%s: wildcard action %q", id, st.Policy, a)
					}
				}
			}
		}
	}
}

// XRayWriteActions are the actions an X-Ray uploader (daemon, collector,
// App Runner's managed collector) needs: AWSXRayDaemonWriteAccess.
var XRayWriteActions = []string{
	"xray:PutTraceSegments",
	"xray:PutTelemetryRecords",
	"xray:GetSamplingRules",
	"xray:GetSamplingTargets",
	"xray:GetSamplingStatisticSummaries",
}

// ActionSet collects the actions of every statement of a role.
func ActionSet(stmts []cfntest.Statement) map[string]bool {
	m := map[string]bool{}
	for _, s := range stmts {
		for _, a := range s.Actions {
			m[a] = true
		}
	}
	return m
}

// Dockerfile checks the example's Dockerfile: multi-stage, static build of
// pkg (a package of the examples module, built from examples/), distroless
// or scratch runtime, non-root user, entrypoint bin (["/orders"]).
func Dockerfile(t *testing.T, path, pkg, bin string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var user, entry string
	cgoOff, builds := false, false
	var lines []string
	cont := ""
	for _, raw := range strings.Split(string(b), "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cont += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		lines = append(lines, cont+line)
		cont = ""
	}
	for _, line := range lines {
		f := strings.Fields(line)
		switch strings.ToUpper(f[0]) {
		case "FROM":
			froms = append(froms, f[1])
			user = ""
		case "ENV", "ARG", "RUN":
			if strings.Contains(line, "CGO_ENABLED=0") {
				cgoOff = true
			}
			if strings.Contains(line, "go build") && strings.Contains(line, pkg) {
				builds = true
			}
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = strings.TrimSpace(strings.TrimPrefix(line, f[0]))
		}
	}
	if len(froms) < 2 {
		t.Errorf("%s: %d stages, want a multi-stage build", path, len(froms))
	}
	if !cgoOff || !builds {
		t.Errorf("%s: want a CGO_ENABLED=0 go build of %s (cgo off %v, build %v)", path, pkg, cgoOff, builds)
	}
	if final := froms[len(froms)-1]; !strings.Contains(final, "distroless/static") && final != "scratch" {
		t.Errorf("%s: runtime image %q, want distroless/static or scratch", path, final)
	}
	if user == "" || user == "root" || user == "0" || strings.HasPrefix(user, "0:") || strings.HasPrefix(user, "root:") {
		t.Errorf("%s: runtime stage USER %q, want a non-root user", path, user)
	}
	if want := `["` + bin + `"]`; entry != want {
		t.Errorf("%s: ENTRYPOINT %s, want %s (the health-check command uses that path)", path, entry, want)
	}
}

// CfnLint runs cfn-lint (the CloudFormation linter, which checks every
// property against the resource schemas) on files when it is installed;
// otherwise, and under -short, the test is skipped.
func CfnLint(t *testing.T, files ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("cfn-lint is slow to start")
	}
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint not installed (pip install cfn-lint)")
	}
	out, err := exec.Command(bin, files...).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %v: %v\n%s", files, err, out)
	}
}
