package otlpenc

import (
	"errors"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// errMalformed is returned for a response that is not valid protobuf.
var errMalformed = errors.New("otlpenc: malformed ExportTraceServiceResponse")

// ParseTraceResponse decodes an ExportTraceServiceResponse (untrusted bytes from the collector):
// partial_success.rejected_spans and partial_success.error_message. Unknown fields are skipped;
// malformed input returns an error, never panics.
//
// It follows protobuf decoding rules: a repeated partial_success merges,
// the last rejected_spans and error_message win, and a known field with an
// unexpected wire type is skipped as unknown. Unlike proto.Unmarshal it
// accepts an error_message that is not valid UTF-8, replacing each run of invalid
// bytes with one U+FFFD, so the rest of the answer is not lost.
func ParseTraceResponse(b []byte) (rejected int64, message string, err error) {
	var msg []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, "", errMalformed
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType { // partial_success
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, "", errMalformed
			}
			b = b[n:]
			var ok bool
			if rejected, msg, ok = parsePartialSuccess(v, rejected, msg); !ok {
				return 0, "", errMalformed
			}
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, "", errMalformed
		}
		b = b[n:]
	}
	return rejected, strings.ToValidUTF8(string(msg), "\uFFFD"), nil
}

// parsePartialSuccess merges one ExportTracePartialSuccess into rejected
// and msg (msg aliases b).
func parsePartialSuccess(b []byte, rejected int64, msg []byte) (int64, []byte, bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, false
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.VarintType: // rejected_spans
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, false
			}
			b = b[n:]
			rejected = int64(v) //nolint:gosec // protobuf int64 decoding
		case num == 2 && typ == protowire.BytesType: // error_message
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, false
			}
			b = b[n:]
			msg = v
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return 0, nil, false
			}
			b = b[n:]
		}
	}
	return rejected, msg, true
}
