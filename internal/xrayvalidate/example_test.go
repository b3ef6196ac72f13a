package xrayvalidate_test

import (
	"fmt"

	"github.com/o11y-go/o11y/internal/xrayvalidate"
)

func ExampleValidate() {
	good := `{"name":"orders","id":"7f3a9c2e1b4d5a60","trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d","start_time":1764094880.12,"end_time":1764094880.19}`
	fmt.Println(xrayvalidate.Validate([]byte(good)))

	bad := `{"name":"orders","id":"7F3A","trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d","start_time":1764094880.12,"annotations":{"tenant.id":"t1"}}`
	fmt.Println(xrayvalidate.Validate([]byte(bad)))
	// Output:
	// <nil>
	// id: want 16 lowercase hex digits, got "7F3A"
	// document: neither end_time nor in_progress
	// annotations: key "tenant.id" outside [A-Za-z0-9_]
}
