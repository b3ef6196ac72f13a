package console

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestFilterGolden evaluates every expression of testdata/filters.txt against
// the testdata traces; the golden lists the matching trace ids, or the
// error message for expressions the parser rejects.
func TestFilterGolden(t *testing.T) {
	c := newTestConsole(t, 0)
	loadTestdata(t, c)
	src, err := os.ReadFile("testdata/filters.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			continue
		}
		fmt.Fprintf(&out, "%s\n", line)
		f, err := ParseFilter(line)
		if err != nil {
			fmt.Fprintf(&out, "  error: %v\n", err)
			continue
		}
		list := c.store.Traces(f, 0, 100)
		if len(list.Traces) == 0 {
			fmt.Fprintf(&out, "  (none)\n")
		}
		for _, tr := range list.Traces {
			fmt.Fprintf(&out, "  %s %s\n", tr.ID, tr.Name)
		}
	}
	golden(t, "filters.golden", out.Bytes())
}

func TestFilterErrorPosition(t *testing.T) {
	tests := []struct {
		expr string
		pos  int // 0-based
		msg  string
	}{
		{`fault AND`, 9, "ends too early"},
		{`service(orders)`, 8, "quoted service name"},
		{`http.status = "500"`, 14, "is a number"},
		{`(fault`, 6, "expected )"},
		{`fault)`, 5, "unexpected"},
		{`bogus = 1`, 0, "unknown keyword"},
		{`annotation.x = 'open`, 15, "unterminated string"},
		{`fault % 2`, 6, "unexpected character"},
		{strings.Repeat("(", 100) + "fault" + strings.Repeat(")", 100), 65, "nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := ParseFilter(tt.expr)
			se, ok := err.(*SyntaxError)
			if !ok {
				t.Fatalf("ParseFilter(%q) = %v, want a *SyntaxError", tt.expr, err)
			}
			if se.Pos != tt.pos || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got %q at %d, want %q at %d", se.Msg, se.Pos, tt.msg, tt.pos)
			}
		})
	}
}

func TestEmptyFilterMatchesAll(t *testing.T) {
	c := newTestConsole(t, 0)
	loadTestdata(t, c)
	f, err := ParseFilter("   ")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.store.Traces(f, 0, 100).Matched; got != 4 {
		t.Errorf("blank filter matched %d traces, want 4", got)
	}
}

func FuzzParseFilter(f *testing.F) {
	src, _ := os.ReadFile("testdata/filters.txt")
	for _, l := range strings.Split(string(src), "\n") {
		f.Add(l)
	}
	c := newTestConsole(f, 0)
	loadTestdata(f, c)
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := ParseFilter(expr)
		if err != nil {
			se, ok := err.(*SyntaxError)
			if !ok || se.Pos < 0 || se.Pos > len(expr) || se.Msg == "" {
				t.Fatalf("ParseFilter(%q): bad error %#v", expr, err)
			}
			return
		}
		_ = c.store.Traces(flt, 0, 10)
	})
}
