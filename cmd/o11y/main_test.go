package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{nil, 2, "usage: o11y console"},
		{[]string{"help"}, 0, "usage: o11y console"},
		{[]string{"bogus"}, 2, `unknown command "bogus"`},
		{[]string{"console", "-h"}, 0, "no authentication"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		if code := run(tt.args, strings.NewReader(""), &out, &errb); code != tt.code || !strings.Contains(errb.String(), tt.out) {
			t.Errorf("run(%q) = %d, %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.out)
		}
	}
}
