package xraysegment

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		key    string
		s      slot
		legacy bool
	}{
		{"http.request.method", sMethod, false},
		{"http.method", sMethod, true},
		{"db.name", sDBName, true},
		{"db.user", sDBUser, false},
		{"net.sock.peer.addr", sPeerAddr, true},
		{"http.response_content_length", sContentLen, true},
		{"", sNone, false},
		{"db.nam", sNone, false},
		{"http.route", sNone, false},
		// The AWS SDK's own tracing (smithyoteltracing) on its call spans.
		{"api.error_code", sRPCRespCode, true},
		{"api.error_fault", sAPIFault, false},
		{"exception.type", sErrorType, true},
		{"exception.message", sExcMessage, false},
		{"network.protocol.version", sNone, false},
	} {
		s, legacy := classify(tc.key)
		assert.Equal(t, tc.s, s, tc.key)
		assert.Equal(t, tc.legacy, legacy, tc.key)
	}
}
