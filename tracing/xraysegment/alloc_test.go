//go:build !race

package xraysegment

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEncodeAllocs(t *testing.T) {
	for name, cfg := range map[string]Config{
		"default":       {},
		"no-res-meta":   {DisableResourceMetadata: true},
		"indexed-attrs": {IndexedAttributes: []string{"http.route"}},
	} {
		t.Run(name, func(t *testing.T) {
			enc := NewEncoder(cfg)
			span := typicalServerSpan()
			buf := appendDatagram(enc, nil, span)
			allocs := testing.AllocsPerRun(200, func() { buf = appendDatagram(enc, buf[:0], span) })
			assert.LessOrEqual(t, allocs, 0.0, "warm encoder with a big enough buffer allocates nothing")
			client := typicalClientSpan()
			buf = appendDatagram(enc, buf[:0], client)
			allocs = testing.AllocsPerRun(200, func() { buf = appendDatagram(enc, buf[:0], client) })
			assert.LessOrEqual(t, allocs, 0.0)
		})
	}
}
