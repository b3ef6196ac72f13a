package xraysegment

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func localRootStub(parent trace.SpanContext) tracetest.SpanStub {
	s := stub(trace.SpanKindClient, parent,
		attribute.String("aws.span.kind", "LOCAL_ROOT"),
		attribute.String("aws.local.service", "orders"),
		attribute.String("aws.remote.service", "inventory"),
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "http://inventory/items"),
		attribute.Int("http.response.status_code", 200),
	)
	s.Resource = ecsResource()
	return s
}

// T12: a LOCAL_ROOT client span becomes a service segment plus a dependency
// subsegment hanging from it.
func TestLocalRootSplit(t *testing.T) {
	enc := testEncoder(Config{})
	span := localRootStub(remoteParent()).Snapshot()
	segDoc, ok := enc.AppendLocalRootSegment(nil, span)
	require.True(t, ok)
	subDoc := enc.AppendSegment(nil, span)
	seg, segModel := checkDoc(t, segDoc)
	sub, _ := checkDoc(t, subDoc)
	golden(t, "t12_local_root_segment", segDoc)
	golden(t, "t12_local_root_subsegment", subDoc)

	assert.Nil(t, seg["type"])
	assert.Equal(t, "orders", seg["name"])
	assert.Equal(t, "7f3a9c2e1b4d5a60", seg["parent_id"], "the span's original parent")
	assert.NotEqual(t, "53995c3f42cd8ad8", seg["id"], "a new id")
	assert.Nil(t, seg["http"])
	assert.Equal(t, "AWS::ECS::Fargate", segModel.Origin)

	assert.Equal(t, "subsegment", sub["type"])
	assert.Equal(t, "53995c3f42cd8ad8", sub["id"], "keeps the span's own id")
	assert.Equal(t, seg["id"], sub["parent_id"])
	assert.Equal(t, "inventory", sub["name"])
	assert.Equal(t, "remote", sub["namespace"])
	assert.NotNil(t, sub["http"])

	// Without a parent the segment is a root.
	seg2, ok := enc.AppendLocalRootSegment(nil, localRootStub(trace.SpanContext{}).Snapshot())
	require.True(t, ok)
	m, _ := checkDoc(t, seg2)
	assert.Nil(t, m["parent_id"])

	// Other spans: no extra document.
	out, ok := enc.AppendLocalRootSegment([]byte("x"), stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	assert.False(t, ok)
	assert.Equal(t, "x", string(out))
}
