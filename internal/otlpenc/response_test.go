package otlpenc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

func TestParseTraceResponse(t *testing.T) {
	marshal := func(m *coltracepb.ExportTraceServiceResponse) []byte {
		b, err := proto.Marshal(m)
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name     string
		in       []byte
		rejected int64
		message  string
		wantErr  bool
	}{
		{name: "empty", in: nil},
		{name: "full success", in: marshal(&coltracepb.ExportTraceServiceResponse{})},
		{name: "partial", in: marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
			RejectedSpans: 42, ErrorMessage: "42 spans dropped: quota"}}), rejected: 42, message: "42 spans dropped: quota"},
		{name: "warning only", in: marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{
			ErrorMessage: "deprecated attribute"}}), message: "deprecated attribute"},
		{name: "negative", in: []byte{0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, rejected: -1},
		{name: "merged occurrences", in: []byte{0x0a, 0x04, 0x12, 0x02, 'h', 'i', 0x0a, 0x02, 0x08, 0x07}, rejected: 7, message: "hi"},
		{name: "unknown fields skipped", in: []byte{0x10, 0x01, 0x0a, 0x09, 0x18, 0x05, 0x08, 0x03, 0x25, 0, 0, 0, 0}, rejected: 3},
		{name: "wrong wire type is unknown", in: []byte{0x08, 0x01}},
		{name: "invalid UTF-8 message sanitised", in: []byte{0x0a, 0x04, 0x12, 0x02, 'a', 0xff}, message: "a\uFFFD"},
		{name: "truncated tag", in: []byte{0x0a}, wantErr: true},
		{name: "truncated body", in: []byte{0x0a, 0x05, 0x08}, wantErr: true},
		{name: "truncated inner varint", in: []byte{0x0a, 0x01, 0x08}, wantErr: true},
		{name: "field zero", in: []byte{0x00, 0x00}, wantErr: true},
		{name: "huge length", in: []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rejected, msg, err := ParseTraceResponse(tc.in)
			if tc.wantErr {
				assert.Error(t, err)
				assert.Zero(t, rejected)
				assert.Empty(t, msg)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.rejected, rejected)
			assert.Equal(t, tc.message, msg)
		})
	}
}
