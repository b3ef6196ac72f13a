package logging

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
)

// any returns x, or a redacted copy of it when it holds secrets: maps are
// walked directly ([redactor.value]); structs and other composite values are
// marshalled to JSON, their object keys checked at any depth, and the
// redacted tree returned in their place. Scalars, errors and values without
// secrets come back unchanged (and uncopied).
func (r *redactor) any(x any, depth int) any {
	if r == nil {
		return x
	}
	if red, ok := r.value(x, depth); ok {
		return red
	}
	switch x.(type) {
	case nil, error, []byte, string, json.Marshaler:
		return x
	}
	switch reflect.ValueOf(x).Kind() {
	case reflect.Struct, reflect.Pointer, reflect.Map, reflect.Slice, reflect.Array, reflect.Interface:
	default:
		return x
	}
	b, err := json.Marshal(x)
	if err != nil || !bytes.ContainsAny(b, "{") {
		return x // appendAny reports the error / no object keys to redact
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if dec.Decode(&tree) != nil {
		return x
	}
	if red, ok := r.value(tree, depth); ok {
		return red
	}
	return x
}

// sameValue reports whether a and b are the same value without comparing
// uncomparable types (maps, slices) by content.
func sameValue(a, b any) bool {
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb {
		return false
	}
	if ta == nil || ta.Comparable() {
		defer func() { _ = recover() }() // interface fields may hold uncomparable values
		return a == b
	}
	return false
}

// value returns a copy of x with the entries under redacted keys masked,
// for the map types that carry secrets in practice (http.Header, url.Values,
// map[string]string, map[string][]string, map[string]any, nested up to
// maxDepth). ok is false, and nothing is copied, when x is another type or
// has no redacted key. Safe on a nil receiver.
func (r *redactor) value(x any, depth int) (any, bool) {
	if r == nil || depth >= maxDepth {
		return nil, false
	}
	switch m := x.(type) {
	case http.Header:
		return redactSlices(r, m)
	case url.Values:
		return redactSlices(r, m)
	case map[string][]string:
		return redactSlices(r, m)
	case map[string]string:
		if !r.anyMatch(m) {
			return nil, false
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			if r.match(k) {
				v = Redacted
			}
			out[k] = v
		}
		return out, true
	case []any:
		var out []any
		for i, v := range m {
			if rv, ok := r.value(v, depth+1); ok {
				if out == nil {
					out = append([]any(nil), m...)
				}
				out[i] = rv
			}
		}
		return out, out != nil
	case map[string]any:
		var out map[string]any
		for k, v := range m {
			nv, changed := v, false
			if r.match(k) {
				nv, changed = Redacted, true
			} else if rv, ok := r.value(v, depth+1); ok {
				nv, changed = rv, true
			}
			if changed && out == nil {
				out = make(map[string]any, len(m))
				for k2, v2 := range m {
					out[k2] = v2
				}
			}
			if out != nil {
				out[k] = nv
			}
		}
		return out, out != nil
	}
	return nil, false
}

func redactSlices[M ~map[string][]string](r *redactor, m M) (any, bool) {
	if !anyMatch(r, m) {
		return nil, false
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if r.match(k) {
			v = []string{Redacted}
		}
		out[k] = v
	}
	return out, true
}

func (r *redactor) anyMatch(m map[string]string) bool { return anyMatch(r, m) }

// anyMatch reports whether any key of m is redacted.
func anyMatch[M ~map[string]V, V any](r *redactor, m M) bool {
	for k := range m {
		if r.match(k) {
			return true
		}
	}
	return false
}
