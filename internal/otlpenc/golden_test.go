package otlpenc

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestGolden pins the exact bytes for a fixed batch (two typical HTTP
// spans and one span with every attribute type, event, link and trace
// state), so any change in the encoding shows up in review. Regenerate
// with go test -run TestGolden -update after checking the change is
// intended; TestEquivalentToUpstream checks the meaning.
func TestGolden(t *testing.T) {
	spans := append(typicalBatch(t, 2), variedBatch(t)[0])
	var e Encoder
	got := e.AppendTraceRequest(nil, spans)
	path := filepath.Join("testdata", "request.binpb")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding changed (%d bytes, golden %d); rerun with -update if intended", len(got), len(want))
	}
	decode(t, want) // the golden file itself is a valid request
}
