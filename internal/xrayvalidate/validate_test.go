package xrayvalidate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const goodSegment = `{"name":"orders","id":"7f3a9c2e1b4d5a60","trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d",
 "start_time":1764094880.123456,"end_time":1764094880.187654,"origin":"AWS::ECS::Fargate",
 "http":{"request":{"method":"GET","url":"https://api.example.com/orders/42","client_ip":"203.0.113.7","x_forwarded_for":true},
         "response":{"status":500,"content_length":57}},
 "fault":true,"user":"u-1","service":{"version":"1.4.2"},
 "aws":{"ecs":{"container":"ip-10-0-1-23"}},
 "annotations":{"tenant_id":"t1","n":1,"b":true},"metadata":{"default":{"route":"/orders/{id}"}},
 "cause":{"exceptions":[{"id":"9d8c7b6a5f4e3d2c","message":"x","stack":[{"path":"a.go","line":1,"label":"f"}]}]},
 "links":[{"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"53995c3f42cd8ad8"}],
 "subsegments":[{"id":"a1b2c3d4e5f60718","name":"inventory","namespace":"remote","start_time":1764094880.125,"end_time":1764094880.129,
   "http":{"request":{"method":"GET","traced":true},"response":{"status":200}}}]}`

const goodSubsegment = `{"type":"subsegment","trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d","parent_id":"7f3a9c2e1b4d5a60",
 "id":"0b1c2d3e4f506172","name":"payments","namespace":"remote","start_time":1764094880.1301,"in_progress":true}`

func TestValidateAccepts(t *testing.T) {
	require.NoError(t, Validate([]byte(goodSegment)))
	require.NoError(t, Validate([]byte(goodSubsegment)))
	require.NoError(t, ValidateDatagram([]byte(Header+goodSubsegment)))
}

func TestValidateRejects(t *testing.T) {
	tests := []struct{ name, from, old, new, want string }{
		{"bad json", goodSegment, `"name":"orders",`, `"name":"orders"`, "JSON"},
		{"dup key", goodSegment, `"user":"u-1"`, `"user":"u-1","user":"u-2"`, "duplicate key"},
		{"no name", goodSegment, `"name":"orders",`, ``, "name"},
		{"bad name", goodSegment, `"name":"orders"`, `"name":"a<b>"`, "name"},
		{"bad id", goodSegment, `"id":"7f3a9c2e1b4d5a60"`, `"id":"7F3A9C2E1B4D5A60"`, "id"},
		{"short id", goodSegment, `"id":"7f3a9c2e1b4d5a60"`, `"id":"7f3a"`, "id"},
		{"bad trace", goodSegment, `1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d`, `6925f3a03c9e1f0a8b7d6e5f4a3b2c1d`, "trace_id"},
		{"no trace", goodSegment, `"trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d",`, ``, "trace_id"},
		{"no end", goodSegment, `"end_time":1764094880.187654,`, ``, "neither end_time nor in_progress"},
		{"both", goodSegment, `"end_time":1764094880.187654,`, `"end_time":1764094880.187654,"in_progress":true,`, "both"},
		{"end before start", goodSegment, `"end_time":1764094880.187654`, `"end_time":1764094000`, "end_time"},
		{"sub no parent", goodSubsegment, `"parent_id":"7f3a9c2e1b4d5a60",`, ``, "parent_id"},
		{"bad type", goodSubsegment, `"type":"subsegment"`, `"type":"segment"`, "type"},
		{"bad ns", goodSubsegment, `"namespace":"remote"`, `"namespace":"local"`, "namespace"},
		{"ns on segment", goodSegment, `"user":"u-1"`, `"user":"u-1","namespace":"remote"`, "namespace"},
		{"annotation key", goodSegment, `"tenant_id":"t1"`, `"tenant.id":"t1"`, "A-Za-z0-9_"},
		{"annotation value", goodSegment, `"tenant_id":"t1"`, `"tenant_id":["t1"]`, "value"},
		{"xff on sub", goodSubsegment, `"in_progress":true`, `"in_progress":true,"http":{"request":{"x_forwarded_for":true}}`, "x_forwarded_for"},
		{"traced on segment", goodSegment, `"x_forwarded_for":true`, `"traced":true`, "traced"},
		{"status string", goodSegment, `"status":500`, `"status":"500"`, "status"},
		{"exception id", goodSegment, `"id":"9d8c7b6a5f4e3d2c"`, `"id":"x"`, "exceptions[0].id"},
		{"link trace", goodSegment, `"trace_id":"1-5759e988-bd862e3fe1be46a994272793"`, `"trace_id":"x"`, "links[0].trace_id"},
		{"dummy", goodSegment, `"user":"u-1"`, `"user":"u-1","Dummy":false`, "Dummy"},
		{"embedded bad", goodSegment, `"id":"a1b2c3d4e5f60718"`, `"id":"zz"`, "subsegments[0].id"},
		{"fault type", goodSegment, `"fault":true`, `"fault":"true"`, "fault"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(tc.from, tc.old, tc.new, 1)
			require.NotEqual(t, tc.from, doc, "replacement did not apply")
			err := Validate([]byte(doc))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	big := `{"name":"x","id":"7f3a9c2e1b4d5a60","trace_id":"1-6925f3a0-3c9e1f0a8b7d6e5f4a3b2c1d","start_time":1,"end_time":1,"metadata":{"default":{"k":"` + strings.Repeat("v", MaxDocumentSize) + `"}}}`
	assert.ErrorContains(t, Validate([]byte(big)), "over")
	assert.ErrorContains(t, ValidateDatagram([]byte(goodSegment)), "header")
	assert.ErrorContains(t, ValidateDatagram([]byte(`{"format": "json", "version": 2}`+"\n"+goodSegment)), "header")
}

func TestPredicates(t *testing.T) {
	assert.True(t, IsTraceID("1-5759e988-bd862e3fe1be46a994272793"))
	assert.False(t, IsTraceID("2-5759e988-bd862e3fe1be46a994272793"))
	assert.True(t, IsID("53995c3f42cd8ad8"))
	assert.False(t, IsID("53995c3f42cd8ad"))
	assert.True(t, IsName(`GET /a\b_c.d:e%f&g#h=i+j-k@l ü 1`))
	assert.False(t, IsName(strings.Repeat("a", 201)))
	assert.True(t, IsAnnotationKey("tenant_id_2"))
	assert.False(t, IsAnnotationKey("tenant id"))
}
