package segsink_test

import (
	"fmt"

	"github.com/o11y-go/o11y/examples/internal/segsink"
)

func ExampleDecode() {
	datagram := []byte(`{"format": "json", "version": 1}` + "\n" +
		`{"name":"orders","id":"70de5b6f19ff9a0a","trace_id":"1-5759e988-bd862e3fe1be46a994272793",` +
		`"start_time":10,"end_time":10.25,"http":{"request":{"method":"POST","url":"http://x/checkout"},"response":{"status":200}},` +
		`"subsegments":[{"name":"charge-card","id":"70de5b6f19ff9a0b","start_time":10,"end_time":10.125,"annotations":{"order_id":"7"}}]}`)
	_, segs, err := segsink.Decode(datagram)
	if err != nil {
		panic(err)
	}
	for _, s := range segs {
		fmt.Println(s.Name, s.IsSubsegment(), s.TraceID, s.Duration(), s.HTTP.Status, s.Annotations)
	}
	// Output:
	// orders false 1-5759e988-bd862e3fe1be46a994272793 250ms 200 map[]
	// charge-card true 1-5759e988-bd862e3fe1be46a994272793 125ms 0 map[order_id:7]
}
