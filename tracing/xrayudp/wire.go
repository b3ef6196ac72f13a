package xrayudp

import (
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/o11y-go/o11y/internal/xraywire"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

// MaxDatagramSize is the largest UDP payload over IPv4 (and what the daemon's
// 64 KiB read buffer accepts), header included. The translator trims
// documents so that every datagram fits.
const MaxDatagramSize = xraywire.MaxDatagramSize

// header precedes every document sent to the daemon; the daemon drops
// datagrams whose header is not exactly format json, version 1.
const header = xraywire.Header

// appendDatagram appends one daemon datagram for span: the header, then the
// segment document.
func appendDatagram(enc *xraysegment.Encoder, dst []byte, span sdktrace.ReadOnlySpan) []byte {
	return enc.AppendSegment(append(dst, header...), span)
}
