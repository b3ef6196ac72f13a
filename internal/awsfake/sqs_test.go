package awsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func call(t *testing.T, f *Server, op, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", f.URL, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: %v", op, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

// The request's X-Amzn-Trace-Id reaches the message's AWSTraceHeader, and
// only when asked for; message attributes only when asked for.
func TestSQSTraceHeaderAndAttributes(t *testing.T) {
	f := New(t)
	url := f.QueueURL("q")
	const th = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	code, _ := call(t, f, "SendMessage", `{"QueueUrl":"`+url+`","MessageBody":"b","MessageAttributes":{"X-Request-Id":{"DataType":"String","StringValue":"r-1"},"other":{"DataType":"String","StringValue":"x"}}}`,
		map[string]string{"X-Amzn-Trace-Id": th})
	if code != 200 {
		t.Fatalf("SendMessage %d", code)
	}
	for _, tc := range []struct {
		name      string
		req       string
		wantTrace bool
		wantAttrs []string
	}{
		{"nothing asked", `"VisibilityTimeout":0`, false, nil},
		{"trace header", `"VisibilityTimeout":0,"MessageSystemAttributeNames":["AWSTraceHeader"]`, true, nil},
		{"legacy AttributeNames All", `"VisibilityTimeout":0,"AttributeNames":["All"]`, true, nil},
		{"one attribute", `"VisibilityTimeout":0,"MessageAttributeNames":["X-Request-Id"]`, false, []string{"X-Request-Id"}},
		{"prefix", `"VisibilityTimeout":0,"MessageAttributeNames":["X-.*"]`, false, []string{"X-Request-Id"}},
		{"all", `"VisibilityTimeout":0,"MessageAttributeNames":["All"]`, false, []string{"X-Request-Id", "other"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := call(t, f, "ReceiveMessage", `{"QueueUrl":"`+url+`",`+tc.req+`}`, nil)
			msgs, _ := out["Messages"].([]any)
			if code != 200 || len(msgs) != 1 {
				t.Fatalf("ReceiveMessage %d %v", code, out)
			}
			m := msgs[0].(map[string]any)
			sys, _ := m["Attributes"].(map[string]any)
			if got, _ := sys["AWSTraceHeader"].(string); (got == th) != tc.wantTrace || (got != "" && got != th) {
				t.Errorf("AWSTraceHeader %q, want it: %v", got, tc.wantTrace)
			}
			attrs, _ := m["MessageAttributes"].(map[string]any)
			if len(attrs) != len(tc.wantAttrs) {
				t.Errorf("attributes %v, want %v", attrs, tc.wantAttrs)
			}
			for _, a := range tc.wantAttrs {
				if attrs[a] == nil {
					t.Errorf("attribute %s missing", a)
				}
			}
		})
	}
}

// Close ends a long poll in progress (the demo closes the fake while its
// worker polls).
func TestSQSCloseEndsLongPoll(t *testing.T) {
	f := Start()
	defer f.Close()
	url := f.QueueURL("idle")
	done := make(chan int, 1)
	go func() {
		code, _ := call(t, f, "ReceiveMessage", `{"QueueUrl":"`+url+`","WaitTimeSeconds":20}`, nil)
		done <- code
	}()
	for i := 0; i < 2000 && f.LastHeader() == nil; i++ { // the poll has arrived
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { f.Close(); close(closed) }()
	select {
	case code := <-done:
		if code != 200 {
			t.Errorf("long poll ended with %d, want 200 and no messages", code)
		}
	case <-time.After(15 * time.Second): // well under the poll's 20 s: Close ended it
		t.Fatal("Close did not end the long poll")
	}
	<-closed
}
