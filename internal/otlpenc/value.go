package otlpenc

import (
	"encoding/binary"
	"math"

	"go.opentelemetry.io/otel/attribute"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field tags of opentelemetry.proto.common.v1.
const (
	tagKVKey      = 1<<3 | wtBytes // KeyValue.key
	tagKVValue    = 2<<3 | wtBytes // KeyValue.value
	tagAnyString  = 1<<3 | wtBytes
	tagAnyBool    = 2<<3 | wtVarint
	tagAnyInt     = 3<<3 | wtVarint
	tagAnyDouble  = 4<<3 | wtFixed64
	tagAnyArray   = 5<<3 | wtBytes
	tagAnyKVList  = 6<<3 | wtBytes
	tagAnyBytes   = 7<<3 | wtBytes
	tagListValues = 1<<3 | wtBytes // ArrayValue.values and KeyValueList.values
)

// appendKeyValues appends each of kvs as field t. Attributes are passed
// by pointer: a KeyValue is 64 bytes, copied twice per call otherwise.
func (e *Encoder) appendKeyValues(b []byte, t byte, kvs []attribute.KeyValue) []byte {
	for i := range kvs {
		b = e.appendKeyValue(b, t, &kvs[i])
	}
	return b
}

// appendKeyValue appends attribute kv as field t (a repeated KeyValue).
func (e *Encoder) appendKeyValue(b []byte, t byte, kv *attribute.KeyValue) []byte {
	if c, ok := e.appendScalarKeyValue(b, t, kv); ok {
		return c
	}
	b = append(b, t)
	b, start := openLen(b, 1) // most attributes are under 128 bytes
	b = e.appendStringField(b, tagKVKey, string(kv.Key))
	b = append(b, tagKVValue) // upstream always sets Value, even for EMPTY
	b = e.appendAnyValue(b, kv.Value)
	return closeLen(b, start, 1)
}

// appendScalarKeyValue is the fast path of appendKeyValue for valid UTF-8
// and scalar values (nearly every attribute): the sizes are computed
// up front, so no length has to be fixed up afterwards.
func (e *Encoder) appendScalarKeyValue(b []byte, t byte, kv *attribute.KeyValue) ([]byte, bool) {
	key := string(kv.Key)
	if !validUTF8(key) {
		return b, false
	}
	var vlen int // AnyValue body
	var u uint64
	var str string
	typ := kv.Value.Type()
	switch typ {
	case attribute.STRING:
		str = kv.Value.AsString()
		if !validUTF8(str) {
			return b, false
		}
		vlen = 1 + sizeVarint(uint64(len(str))) + len(str)
	case attribute.INT64:
		u = uint64(kv.Value.AsInt64()) //nolint:gosec // protobuf int64 encoding
		vlen = 1 + sizeVarint(u)
	case attribute.BOOL:
		if kv.Value.AsBool() {
			u = 1
		}
		vlen = 2
	case attribute.FLOAT64:
		u = math.Float64bits(kv.Value.AsFloat64())
		vlen = 9
	default:
		return b, false
	}
	n := 1 + sizeVarint(uint64(vlen)) + vlen // value field
	if key != "" {
		n += 1 + sizeVarint(uint64(len(key))) + len(key)
	}
	b = appendVarint(append(b, t), uint64(n))
	if key != "" {
		b = appendVarint(append(b, tagKVKey), uint64(len(key)))
		b = append(b, key...)
	}
	b = appendVarint(append(b, tagKVValue), uint64(vlen))
	switch typ {
	case attribute.STRING:
		b = appendVarint(append(b, tagAnyString), uint64(len(str)))
		b = append(b, str...)
	case attribute.INT64:
		b = appendVarint(append(b, tagAnyInt), u)
	case attribute.BOOL:
		b = append(b, tagAnyBool, byte(u))
	default: // FLOAT64
		b = binary.LittleEndian.AppendUint64(append(b, tagAnyDouble), u)
	}
	return b, true
}

// appendAnyValue appends the length and body of the AnyValue for v, with the
// upstream mapping: every scalar is set even when zero (it is a oneof, so
// presence is visible), EMPTY is an empty AnyValue, and an unknown type is
// the string "INVALID".
func (e *Encoder) appendAnyValue(b []byte, v attribute.Value) []byte {
	b, start := openLen(b, 1)
	var s int // start of a nested list body
	switch v.Type() {
	case attribute.STRING:
		b = e.appendString(append(b, tagAnyString), v.AsString())
	case attribute.BOOL:
		b = append(b, tagAnyBool, 0)
		if v.AsBool() {
			b[len(b)-1] = 1
		}
	case attribute.INT64:
		b = appendVarintField(b, tagAnyInt, uint64(v.AsInt64())) //nolint:gosec // protobuf int64 encoding
	case attribute.FLOAT64:
		b = appendFixed64Field(b, tagAnyDouble, math.Float64bits(v.AsFloat64()))
	case attribute.BYTESLICE:
		// AsString returns the bytes without the copy AsByteSlice makes.
		str := v.AsString()
		b = protowire.AppendVarint(append(b, tagAnyBytes), uint64(len(str)))
		b = append(b, str...)
	case attribute.BOOLSLICE:
		b, s = openArray(b)
		for _, x := range v.AsBoolSlice() {
			var bit byte
			if x {
				bit = 1
			}
			b = append(b, tagListValues, 2, tagAnyBool, bit)
		}
		b = closeLen(b, s, 2)
	case attribute.INT64SLICE:
		b, s = openArray(b)
		for _, x := range v.AsInt64Slice() {
			u := uint64(x) //nolint:gosec // protobuf int64 encoding
			b = append(b, tagListValues, byte(1+protowire.SizeVarint(u)), tagAnyInt)
			b = protowire.AppendVarint(b, u)
		}
		b = closeLen(b, s, 2)
	case attribute.FLOAT64SLICE:
		b, s = openArray(b)
		for _, x := range v.AsFloat64Slice() {
			b = append(b, tagListValues, 9)
			b = appendFixed64Field(b, tagAnyDouble, math.Float64bits(x))
		}
		b = closeLen(b, s, 2)
	case attribute.STRINGSLICE:
		b, s = openArray(b)
		for _, x := range v.AsStringSlice() {
			var vs int
			b, vs = openLen(append(b, tagListValues), 1)
			b = e.appendString(append(b, tagAnyString), x)
			b = closeLen(b, vs, 1)
		}
		b = closeLen(b, s, 2)
	case attribute.SLICE:
		b, s = openArray(b)
		for _, x := range v.AsSlice() {
			b = e.appendAnyValue(append(b, tagListValues), x)
		}
		b = closeLen(b, s, 2)
	case attribute.MAP:
		b, s = openLen(append(b, tagAnyKVList), 2)
		kvs := v.AsMap()
		for i := range kvs {
			b = e.appendKeyValue(b, tagListValues, &kvs[i])
		}
		b = closeLen(b, s, 2)
	case attribute.EMPTY:
		// An AnyValue with no value set.
	default:
		b = append(b, tagAnyString, 7)
		b = append(b, "INVALID"...)
	}
	return closeLen(b, start, 1)
}

// openArray opens an ArrayValue field (close it with closeLen(b, s, 2)).
// The slice types are the only ones whose accessors allocate (the attribute
// package copies them out); typical spans carry none.
func openArray(b []byte) ([]byte, int) {
	return openLen(append(b, tagAnyArray), 2)
}
