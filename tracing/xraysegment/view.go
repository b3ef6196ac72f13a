package xraysegment

import (
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// maxTracked is how many attributes per span get remembered classification;
// the SDK's default attribute count limit is 128.
const maxTracked = 128

// view indexes one span's attributes by slot in a single pass.
type view struct {
	attrs []attribute.KeyValue
	kind  trace.SpanKind // the span's kind (set by the caller of init)
	idx   [nSlots]int16  // index+1 into attrs; 0 = absent
	// groups[g] has bit i set when attribute i (< maxTracked) belongs to
	// group g, so metadata visits only the attributes it may write.
	groups [nGroups][maxTracked / 64]uint64
	annot  [maxTracked / 64]uint64 // attributes written as annotations
}

func (v *view) init(attrs []attribute.KeyValue) {
	v.attrs = attrs
	var legacySet uint64 // slots currently filled by a legacy alias
	for i := range attrs {
		s, legacy := classify(string(attrs[i].Key))
		if i < maxTracked {
			u := uint(i)
			v.groups[slotGroup[s]&(nGroups-1)][u>>6&1] |= 1 << (u & 63)
		}
		if s == sNone || i >= 1<<15-1 {
			continue
		}
		bit := uint64(1) << s
		if v.idx[s] == 0 || (!legacy && legacySet&bit != 0) {
			v.idx[s] = int16(i + 1)
			if legacy {
				legacySet |= bit
			} else {
				legacySet &^= bit
			}
		}
	}
}

func (v *view) has(s slot) bool { return v.idx[s] != 0 }

var zeroValue attribute.Value

// val returns the attribute in slot s (a pointer: Values are 48 bytes and
// this is called a dozen times per span).
func (v *view) val(s slot) *attribute.Value {
	if v.idx[s] == 0 {
		return &zeroValue
	}
	return &v.attrs[v.idx[s]-1].Value
}

// str returns a string-typed attribute ("" if absent or not a string).
func (v *view) str(s slot) string {
	if v.idx[s] == 0 {
		return ""
	}
	val := &v.attrs[v.idx[s]-1].Value
	if val.Type() == attribute.STRING {
		return val.AsString()
	}
	return ""
}

// num returns an integer attribute given as an int or a decimal string.
func (v *view) num(s slot) (int64, bool) {
	val := v.val(s)
	switch val.Type() {
	case attribute.INT64:
		return val.AsInt64(), true
	case attribute.FLOAT64:
		f := val.AsFloat64()
		if f >= -1<<53 && f <= 1<<53 {
			return int64(f), true
		}
	case attribute.STRING:
		n, err := strconv.ParseInt(strings.TrimSpace(val.AsString()), 10, 64)
		return n, err == nil
	}
	return 0, false
}
