// Package xraywire holds the X-Ray daemon's datagram format, shared by the
// span → segment translator (tracing/xraysegment), which keeps documents
// within one datagram, and the UDP transport (tracing/xrayudp), which
// writes them.
package xraywire

// Header precedes every document sent to the daemon; the daemon drops
// datagrams whose header is not exactly format json, version 1.
const Header = `{"format": "json", "version": 1}` + "\n"

// MaxDatagramSize is the largest UDP payload over IPv4 (and what the
// daemon's 64 KiB read buffer accepts), header included.
const MaxDatagramSize = 65507

// MaxDocumentSize is the largest segment document that fits one datagram
// after Header. Larger documents are trimmed, never split or lost.
const MaxDocumentSize = MaxDatagramSize - len(Header)
