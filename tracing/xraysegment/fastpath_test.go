package xraysegment

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/xrayid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// The fast paths below must write exactly what the general code (or the
// library they stand in for) writes.

func TestAppendIDsMatchesXrayID(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ids := [][8]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0x09, 0x0a, 0x90, 0xa0, 0x99, 0xaa, 0x9a, 0xa9}}
	for range 2000 {
		var b [8]byte
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		ids = append(ids, b)
	}
	for i, id := range ids {
		tid := trace.TraceID{}
		copy(tid[:], id[:])
		copy(tid[8:], ids[(i+1)%len(ids)][:])
		parent := trace.SpanID(ids[(i+2)%len(ids)])
		for _, hasParent := range []bool{false, true} {
			want := `x,"id":"` + string(xrayid.AppendSpanID(nil, id)) + `","trace_id":"` + xrayid.FormatTraceID(tid) + `"`
			if hasParent {
				want += `,"parent_id":"` + string(xrayid.AppendSpanID(nil, parent)) + `"`
			}
			require.Equal(t, want, string(appendIDs([]byte("x"), id, tid, parent, hasParent)))
		}
	}
}

func TestIsIPAddrMatchesNetip(t *testing.T) {
	cases := []string{"", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.02.3.4", "1.2.3.04",
		"1.2.3.0", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..3.4", "1.2.3.4.5", "1234.1.1.1", "1.2.3.4 ", "::1",
		"fe80::1%eth0", "::ffff:1.2.3.4", "1.2.3.4%eth0", "a.b.c.d", "10.0.1.23", "203.0.113.7"}
	r := rand.New(rand.NewPCG(5, 6))
	const alpha = "0123456789.:af% "
	for range 300000 {
		b := make([]byte, 1+r.IntN(16))
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		cases = append(cases, string(b),
			fmt.Sprintf("%d.%d.%d.%d", r.IntN(300), r.IntN(300), r.IntN(1100), r.IntN(260)),
			fmt.Sprintf("%02d.%d.%d.%d", r.IntN(300), r.IntN(30), r.IntN(10), r.IntN(260)))
	}
	for _, s := range cases {
		_, err := netip.ParseAddr(s)
		if got := isIPAddr(s); got != (err == nil) {
			t.Fatalf("isIPAddr(%q) = %v, netip error %v", s, got, err)
		}
	}
	assert.True(t, isDottedQuad("203.0.113.7"))
	assert.False(t, isDottedQuad("::1"))
}

func TestAppendIntMatchesStrconv(t *testing.T) {
	for n := int64(-1100); n < 20000; n++ {
		require.Equal(t, strconv.FormatInt(n, 10), string(jsonenc.AppendSmallInt(nil, n)))
	}
	for _, n := range []int64{1 << 62, -1 << 63, 99999, 100000} {
		require.Equal(t, strconv.FormatInt(n, 10), string(jsonenc.AppendSmallInt(nil, n)))
	}
	for n := int64(1); n < 1<<40; n = n*7 + 3 {
		require.Equal(t, len(strconv.FormatInt(n, 10)), decimalLen(n), n)
	}
}

func TestFlagsJSON(t *testing.T) {
	for i, s := range flagsJSON {
		var m map[string]bool
		require.NoError(t, json.Unmarshal([]byte("{"+s[1:]+"}"), &m))
		assert.Equal(t, map[string]bool{"fault": i&4 != 0, "error": i&2 != 0, "throttle": i&1 != 0}, m)
		assert.Equal(t, i, b2i(i&4 != 0)<<2|b2i(i&2 != 0)<<1|b2i(i&1 != 0))
	}
}

// Metadata walks the first maxTracked attributes through bit sets and the
// rest one by one; both must keep attribute order and skip consumed keys.
func TestMetadataManyAttributes(t *testing.T) {
	var attrs []attribute.KeyValue
	var want []string
	for i := range 160 {
		if i < 130 && i%40 != 1 {
			// Consumed by the http block (the first) or its duplicates.
			attrs = append(attrs, attribute.String("url.path", "/p"))
			continue
		}
		k := fmt.Sprintf("k%03d", i)
		attrs = append(attrs, attribute.Int(k, i))
		want = append(want, k)
	}
	attrs = append(attrs, attribute.String("http.request.method", "GET"))
	doc := NewEncoder(Config{DisableResourceMetadata: true}).AppendSegment(nil, stub(trace.SpanKindServer, remoteParent(), attrs...).Snapshot())
	m, _ := checkDoc(t, doc)
	md, _ := get(m, "metadata.default").(map[string]any)
	require.Len(t, md, len(want))
	for _, k := range want {
		assert.Contains(t, md, k)
	}
	// Order: keys appear in attribute order in the document.
	last := 0
	for _, k := range want {
		i := strings.Index(string(doc), `"`+k+`":`)
		require.Greater(t, i, last, k)
		last = i
	}
}

func TestAppendTimesMatchesJSONEnc(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	vals := []int64{0, 1, 999_999_999_999_999_999, 1e18, 1e18 + 1, 1795626000_123456_789, math.MaxInt64, math.MaxInt64 - 1, 9_999_999_999_000_000}
	for range 20000 {
		vals = append(vals, r.Int64N(math.MaxInt64), 1e18+r.Int64N(math.MaxInt64-1e18), 1795626000_000000_000+r.Int64N(1e12))
	}
	for i, start := range vals {
		for _, end := range []int64{start, vals[(i+1)%len(vals)], start + r.Int64N(1e10)} {
			if end < start || end < 0 {
				end = start
			}
			want := `x,"start_time":` + string(jsonenc.AppendEpochSeconds(nil, start)) + `,"end_time":` + string(jsonenc.AppendEpochSeconds(nil, end))
			if got := string(appendTimes([]byte("x"), start, end)); got != want {
				t.Fatalf("appendTimes(%d, %d) = %q, want %q", start, end, got, want)
			}
		}
	}
}
