package segsink

import (
	"net"
	"strings"
	"testing"
	"time"
)

const hdr = `{"format": "json", "version": 1}` + "\n"

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		want    int // segments decoded
	}{
		{"segment", hdr + `{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1,"end_time":2,"fault":true,"http":{"request":{"method":"GET","url":"http://x/"},"response":{"status":500}}}`, "", 1},
		{"nested", hdr + `{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1,"end_time":2,"subsegments":[{"name":"b","id":"70de5b6f19ff9a0b","start_time":1,"end_time":2,"annotations":{"order_id":"7"}}]}`, "", 2},
		{"no header", `{"name":"a"}`, "no header", 0},
		{"bad header", `{"format":"xml","version":1}` + "\n{}", "unsupported header", 0},
		{"bad version", `{"format":"json","version":2}` + "\n{}", "unsupported header", 0},
		{"empty body", hdr, "empty body", 0},
		{"bad body", hdr + `{"name":`, "bad document", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, segs, err := Decode([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != tc.want {
				t.Fatalf("got %d segments, want %d", len(segs), tc.want)
			}
		})
	}
	_, segs, _ := Decode([]byte(tests[1].in))
	sub := segs[1]
	if !sub.Nested || !sub.IsSubsegment() || sub.ParentID != "70de5b6f19ff9a0a" || sub.TraceID != segs[0].TraceID {
		t.Fatalf("nested subsegment not linked to parent: %+v", sub)
	}
	if sub.Annotations["order_id"] != "7" {
		t.Fatalf("annotations = %v", sub.Annotations)
	}
	_, segs, _ = Decode([]byte(tests[0].in))
	if s := segs[0]; !s.Fault || s.HTTP.Status != 500 || s.HTTP.Method != "GET" || s.Duration() != time.Second {
		t.Fatalf("decoded %+v", s)
	}
}

func TestSink(t *testing.T) {
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan Segment, 4)
	s.OnSegment(func(sg Segment) { got <- sg })
	c, err := net.Dial("udp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte(hdr + `{"name":"svc","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793","start_time":1,"end_time":2}`))
	c.Write([]byte("garbage"))
	if !s.WaitFor(5*time.Second, func(segs []Segment) bool { return len(segs) == 1 }) {
		t.Fatal("segment not received")
	}
	if sg := <-got; sg.Name != "svc" {
		t.Fatalf("callback got %+v", sg)
	}
	if !s.Settle(10 * time.Second) {
		t.Fatal("the sink did not settle")
	}
	if s.Datagrams() != 2 || s.Lost() != 0 {
		t.Fatalf("datagrams %d, lost %d", s.Datagrams(), s.Lost())
	}
	if len(s.Errors()) != 1 || len(s.Bodies()) != 1 {
		t.Fatalf("errors %v bodies %d", s.Errors(), len(s.Bodies()))
	}
	if m := ByTrace(s.Segments()); len(m["1-5759e988-bd862e3fe1be46a994272793"]) != 1 {
		t.Fatalf("ByTrace = %v", m)
	}
}
