package main

import (
	"testing"
	"time"

	"github.com/o11y-go/o11y/examples/internal/cfntest"
	"github.com/o11y-go/o11y/examples/internal/e2e"
	"github.com/o11y-go/o11y/examples/internal/fulfilment"
)

const workerTemplate = "cloudformation/fulfilment-worker.yaml"

// TestWorkerTemplate checks the fulfilment stack: a queue with a
// dead-letter queue (redrive policy), the worker's task definition (X-Ray
// daemon sidecar, queue URL, health probe, stop budget) and service (no
// load balancer), and least-privilege IAM.
func TestWorkerTemplate(t *testing.T) {
	tmpl := load(t, workerTemplate)
	for typ, n := range map[string]int{"AWS::SQS::Queue": 2, "AWS::ECS::TaskDefinition": 1, "AWS::ECS::Service": 1, "AWS::Logs::LogGroup": 1, "AWS::CloudWatch::Alarm": 1} {
		if got := len(tmpl.ResourcesOfType(typ)); got != n {
			t.Errorf("%d %s, want %d", got, typ, n)
		}
	}
	vars := tmpl.Vars()

	// Queues: redrive to the dead-letter queue after MaxReceiveCount;
	// visibility longer than a whole batch's handling; long polling.
	q := cfntest.Get(tmpl.Resource("OrdersQueue"), "Properties")
	if a, _ := cfntest.GetAtt(cfntest.Get(q, "RedrivePolicy", "deadLetterTargetArn")); a != "OrdersDeadLetterQueue.Arn" {
		t.Errorf("redrive target %q, want the dead-letter queue", a)
	}
	if v, ok := cfntest.Resolve(cfntest.Get(q, "RedrivePolicy", "maxReceiveCount"), vars); !ok || v == "" || v == "0" {
		t.Errorf("maxReceiveCount %q", v)
	}
	if vt, ok := cfntest.Int(cfntest.Get(q, "VisibilityTimeout")); !ok || time.Duration(vt)*time.Second < 10*fulfilment.DrainTimeout {
		t.Errorf("VisibilityTimeout %d s: want ≥ 10 messages × the worker's per-message budget %v", vt, fulfilment.DrainTimeout)
	}
	if w, _ := cfntest.Int(cfntest.Get(q, "ReceiveMessageWaitTimeSeconds")); w != 20 {
		t.Errorf("ReceiveMessageWaitTimeSeconds %d, want 20 (long polling)", w)
	}
	if a, _ := cfntest.GetAtt(cfntest.Get(tmpl.Resource("DeadLetterAlarm"), "Properties", "Dimensions", "0", "Value")); a != "OrdersDeadLetterQueue.QueueName" {
		t.Errorf("dead-letter alarm watches %q", a)
	}

	// Task definition.
	task := cfntest.Get(tmpl.Resource("WorkerTaskDefinition"), "Properties")
	if a, _ := cfntest.GetAtt(cfntest.Get(task, "TaskRoleArn")); a != "WorkerTaskRole.Arn" {
		t.Errorf("TaskRoleArn %q", a)
	}
	defs := cfntest.Get(task, "ContainerDefinitions")
	worker := cfntest.FindByKey(defs, "Name", "worker")
	daemon := cfntest.FindByKey(defs, "Name", "xray-daemon")
	if worker == nil || daemon == nil {
		t.Fatal("containers worker and xray-daemon must exist")
	}
	vars["OrdersQueue"] = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-fulfilment-orders" // !Ref of a queue is its URL
	env := map[string]string{}
	for k, n := range cfntest.NameValues(cfntest.Get(worker, "Environment")) {
		v, ok := cfntest.Resolve(n, vars)
		if !ok {
			t.Errorf("env %s: cannot resolve", k)
		}
		env[k] = v
	}
	if env[fulfilment.QueueURLEnv] != vars["OrdersQueue"] {
		t.Errorf("%s %q, want !Ref OrdersQueue", fulfilment.QueueURLEnv, env[fulfilment.QueueURLEnv])
	}
	if env["AWS_XRAY_DAEMON_ADDRESS"] != "127.0.0.1:2000" || env["OTEL_SERVICE_NAME"] != vars["ServiceName"] || env["AWS_EMF_NAMESPACE"] == "" {
		t.Errorf("telemetry environment %v", env)
	}
	if hc := cfntest.Strings(cfntest.Get(worker, "HealthCheck", "Command")); len(hc) != 3 || hc[1] != "/worker" || hc[2] != "-healthcheck" {
		t.Errorf("worker health check %v", hc)
	}
	if stop, ok := cfntest.Int(cfntest.Get(worker, "StopTimeout")); !ok || stop > 120 || time.Duration(stop)*time.Second <= fulfilment.DrainTimeout+fulfilment.ReleaseTimeout+fulfilment.FlushTimeout {
		t.Errorf("worker StopTimeout %d: want > %v and ≤ 120", stop, fulfilment.DrainTimeout+fulfilment.ReleaseTimeout+fulfilment.FlushTimeout)
	}
	if c := cfntest.Str(cfntest.Get(cfntest.FindByKey(cfntest.Get(worker, "DependsOn"), "ContainerName", "xray-daemon"), "Condition")); c != "START" {
		t.Errorf("worker DependsOn xray-daemon %q, want START (stopped before the daemon)", c)
	}
	for _, c := range cfntest.Seq(defs) {
		if m := cfntest.Str(cfntest.Get(c, "LogConfiguration", "Options", "mode")); m != "non-blocking" {
			t.Errorf("%s: awslogs mode %q", cfntest.Str(cfntest.Get(c, "Name")), m)
		}
	}
	svc := cfntest.Get(tmpl.Resource("WorkerService"), "Properties")
	if cfntest.Get(svc, "LoadBalancers") != nil {
		t.Errorf("the worker takes no traffic: no load balancer")
	}

	// IAM: the worker consumes that queue and writes to X-Ray, nothing else.
	e2e.CheckRolesLeastPrivilege(t, tmpl)
	role := tmpl.Resource("WorkerTaskRole")
	want := map[string]bool{"sqs:ReceiveMessage": true, "sqs:DeleteMessage": true, "sqs:ChangeMessageVisibility": true, "sqs:GetQueueAttributes": true}
	for _, a := range e2e.XRayWriteActions {
		want[a] = true
	}
	got := e2e.ActionSet(cfntest.RoleStatements(role))
	for a := range want {
		if !got[a] {
			t.Errorf("worker task role lacks %s", a)
		}
	}
	for a := range got {
		if !want[a] {
			t.Errorf("worker task role has %s", a)
		}
	}
	for _, st := range cfntest.RoleStatements(role) {
		for _, r := range st.Resources {
			if a, _ := cfntest.GetAtt(r); len(st.Actions) > 0 && st.Actions[0][:4] == "sqs:" && a != "OrdersQueue.Arn" {
				t.Errorf("sqs permissions on %q, want only the orders queue", cfntest.Str(r))
			}
		}
	}
	for _, out := range []string{"OrdersQueueUrl", "OrdersQueueArn"} {
		if cfntest.Get(tmpl.Root, "Outputs", out) == nil {
			t.Errorf("output %s missing (the orders service's stack takes it)", out)
		}
	}
}

// TestProducerQueuePermission: with the fulfilment leg, the orders
// service's task role may SendMessage to the orders queue and nothing more
// on SQS; its container gets the queue URL.
func TestProducerQueuePermission(t *testing.T) {
	for _, tc := range templates {
		t.Run(tc.file, func(t *testing.T) {
			tmpl := load(t, tc.file)
			pol := tmpl.Resource("SendOrdersPolicy")
			if pol == nil {
				t.Fatal("no SendOrdersPolicy")
			}
			if c := cfntest.Str(cfntest.Get(pol, "Condition")); c != "HasOrdersQueue" {
				t.Errorf("SendOrdersPolicy condition %q", c)
			}
			roles := cfntest.Seq(cfntest.Get(pol, "Properties", "Roles"))
			if r, _ := cfntest.Ref(cfntest.Get(pol, "Properties", "Roles", "0")); len(roles) != 1 || r != "TaskRole" {
				t.Errorf("SendOrdersPolicy roles: want [!Ref TaskRole]")
			}
			stmts := cfntest.RoleStatements(pol)
			if len(stmts) != 1 || len(stmts[0].Actions) != 1 || stmts[0].Actions[0] != "sqs:SendMessage" || len(stmts[0].Resources) != 1 {
				t.Fatalf("SendOrdersPolicy statements %+v, want sqs:SendMessage on one queue", stmts)
			}
			if r, _ := cfntest.Ref(stmts[0].Resources[0]); r != "OrdersQueueArn" {
				t.Errorf("SendMessage on %q, want !Ref OrdersQueueArn", cfntest.Str(stmts[0].Resources[0]))
			}
			_, app, _ := taskParts(t, tmpl, tc.sidecar)
			if r, _ := cfntest.Ref(cfntest.NameValues(cfntest.Get(app, "Environment"))[fulfilment.QueueURLEnv]); r != "OrdersQueueUrl" {
				t.Errorf("app %s: want !Ref OrdersQueueUrl", fulfilment.QueueURLEnv)
			}
		})
	}
}

func TestWorkerDockerfile(t *testing.T) {
	e2e.Dockerfile(t, "worker/Dockerfile", "./ecs/worker", "/worker")
}
