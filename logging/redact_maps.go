package logging

import (
	"net/http"
	"net/url"
)

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
