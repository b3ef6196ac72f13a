package xrayid

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/trace"
)

func TestTraceIDRoundTrip(t *testing.T) {
	id, ok := ParseTraceID("1-5759e988-bd862e3fe1be46a994272793")
	assert.True(t, ok)
	assert.Equal(t, "5759e988bd862e3fe1be46a994272793", id.String())
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", FormatTraceID(id))
	assert.Equal(t, "5759e988bd862e3fe1be46a994272793", string(AppendW3CTraceID(nil, id)))

	upper, ok := ParseTraceID("1-5759E988-BD862E3FE1BE46A994272793")
	assert.True(t, ok)
	assert.Equal(t, id, upper)
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"", "1-00000000-000000000000000000000000", "2-5759e988-bd862e3fe1be46a994272793",
		"1-5759e988bd862e3fe1be46a994272793", "1-5759e988-bd862e3fe1be46a99427279", "1-5759e98g-bd862e3fe1be46a994272793",
	} {
		_, ok := ParseTraceID(s)
		assert.False(t, ok, s)
	}
	sid, ok := ParseSpanID("53995c3f42cd8ad8")
	assert.True(t, ok)
	assert.Equal(t, "53995c3f42cd8ad8", string(AppendSpanID(nil, sid)))
	for _, s := range []string{"", "0000000000000000", "53995c3f42cd8ad", "53995c3f42cd8adz"} {
		_, ok := ParseSpanID(s)
		assert.False(t, ok, s)
	}
}

func TestAppendTraceIDAllocs(t *testing.T) {
	id := trace.TraceID{1, 2, 3}
	buf := make([]byte, 0, TraceIDLen)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = AppendTraceID(buf[:0], id) }))
}
