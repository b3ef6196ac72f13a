// Package xrayvalidate checks X-Ray segment documents against the rules of
// the segment-document schema (shared docs xray.md §1): required fields, id
// and trace-id forms, times (exactly one of end_time / in_progress),
// type/parent rules, namespaces, http request flags, annotations (scalar
// values, [A-Za-z0-9_] keys, at most 50), cause and links shapes, duplicate
// keys and the 64 KiB document limit.
//
// # Use
//
// The exporter's tests validate every golden document with [Validate]; tests
// of middleware and examples that read datagrams from a fake daemon can call
// [ValidateDatagram] on each one:
//
//	if err := xrayvalidate.ValidateDatagram(packet); err != nil {
//		t.Fatal(err)
//	}
//
// The error lists every problem found, joined with errors.Join.
package xrayvalidate
