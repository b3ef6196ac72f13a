//go:build !race

package xrayudp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOnEndAllocs(t *testing.T) {
	d := newFakeDaemon(t)
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), QueueSize: 1 << 12})
	assert.NoError(t, err)
	defer p.Shutdown(context.Background())
	span := typicalServerSpan()
	allocs := testing.AllocsPerRun(100, func() { p.OnEnd(span) })
	assert.LessOrEqual(t, allocs, 0.0)
}
