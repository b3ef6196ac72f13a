//go:build !race

package xrayudp

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEncodeAllocs(t *testing.T) {
	for name, cfg := range map[string]Config{
		"default":       {},
		"no-res-meta":   {OmitResourceMetadata: true},
		"indexed-attrs": {IndexedAttributes: []string{"http.route"}},
	} {
		t.Run(name, func(t *testing.T) {
			enc := NewEncoder(cfg)
			span := typicalServerSpan()
			buf := enc.AppendDatagram(nil, span)
			allocs := testing.AllocsPerRun(200, func() { buf = enc.AppendDatagram(buf[:0], span) })
			assert.LessOrEqual(t, allocs, 0.0, "warm encoder with a big enough buffer allocates nothing")
			client := typicalClientSpan()
			buf = enc.AppendDatagram(buf[:0], client)
			allocs = testing.AllocsPerRun(200, func() { buf = enc.AppendDatagram(buf[:0], client) })
			assert.LessOrEqual(t, allocs, 0.0)
		})
	}
}

func TestOnEndAllocs(t *testing.T) {
	d := newFakeDaemon(t)
	p, err := NewSpanProcessor(Options{DaemonAddress: d.addr(), QueueSize: 1 << 12})
	assert.NoError(t, err)
	defer p.Shutdown(context.Background())
	span := typicalServerSpan()
	allocs := testing.AllocsPerRun(100, func() { p.OnEnd(span) })
	assert.LessOrEqual(t, allocs, 0.0)
}
