package linewriter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunky writes its input in small pieces, as an unsynchronised pipe could:
// without the line writer's lock, concurrent lines would interleave.
type chunky struct{ buf bytes.Buffer }

func (c *chunky) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 3 {
		c.buf.Write(p[i:min(i+3, len(p))])
	}
	return len(p), nil
}

func TestConcurrentLinesNeverInterleave(t *testing.T) {
	sink := &chunky{}
	w := New(sink)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				require.NoError(t, w.WriteLine([]byte(fmt.Sprintf(`{"g":%d,"i":%d}`, g, i))))
			}
		}()
	}
	wg.Wait()
	lines := bytes.Split(bytes.TrimSpace(sink.buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 1600)
	for _, l := range lines {
		assert.True(t, json.Valid(l), "%q", l)
	}
	assert.Equal(t, uint64(1600), w.Lines())
}

type failing struct{}

func (failing) Write(p []byte) (int, error) { return 0, errors.New("disk full") }

func TestErrorsAreCounted(t *testing.T) {
	w := New(failing{})
	assert.Error(t, w.WriteLine([]byte("x\n")))
	assert.Equal(t, uint64(1), w.Errors())
	assert.NoError(t, w.Sync())
}
