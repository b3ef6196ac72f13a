package awsresource

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// FuzzECSMetadata feeds arbitrary container/task documents through the same
// code as Detect's ECS path: it must never panic, and ARNs it builds must be
// well formed.
func FuzzECSMetadata(f *testing.F) {
	for _, p := range [][2]string{{"fargate-container.json", "fargate-task.json"}, {"ec2-container.json", "ec2-task.json"}} {
		c, err1 := os.ReadFile("testdata/" + p[0])
		tk, err2 := os.ReadFile("testdata/" + p[1])
		if err1 != nil || err2 != nil {
			f.Fatal(err1, err2)
		}
		f.Add(c, tk)
	}
	f.Add([]byte(`{"Image":"a:b@c","LogDriver":"awslogs","LogOptions":{"awslogs-group":""}}`), []byte(`{"Cluster":"x","TaskARN":"arn:::::"}`))
	f.Fuzz(func(t *testing.T, container, task []byte) {
		var c ecsContainer
		var tk ecsTask
		_ = json.Unmarshal(container, &c)
		_ = json.Unmarshal(task, &tk)
		var b builder
		arn := parseARN(tk.TaskARN)
		if cl := clusterARN(tk.Cluster, arn); cl != "" && !strings.HasPrefix(cl, "arn:") {
			t.Fatalf("cluster ARN %q", cl)
		}
		name, tag := splitImage(c.Image)
		if len(name)+len(tag) > len(c.Image) {
			t.Fatalf("splitImage(%q) = %q, %q", c.Image, name, tag)
		}
		addAWSLogs(&b, &c, arn)
		for _, kv := range b.kvs {
			if kv.Key == keyLogGroupARNs || kv.Key == keyLogStreamARNs {
				for _, s := range kv.Value.AsStringSlice() {
					if !strings.HasPrefix(s, "arn:") || strings.Count(s, ":") < 6 {
						t.Fatalf("bad log ARN %q", s)
					}
				}
			}
		}
	})
}
