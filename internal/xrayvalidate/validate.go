package xrayvalidate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Header is the daemon datagram header.
const Header = `{"format": "json", "version": 1}` + "\n"

// MaxDatagramSize is the largest datagram (header included) the daemon reads.
const MaxDatagramSize = 65507

// MaxDocumentSize is the largest document that fits one datagram.
const MaxDocumentSize = MaxDatagramSize - len(Header)

// ValidateDatagram checks the daemon header and the document after it.
func ValidateDatagram(b []byte) error {
	if len(b) > MaxDatagramSize {
		return fmt.Errorf("datagram is %d bytes, over %d", len(b), MaxDatagramSize)
	}
	if !bytes.HasPrefix(b, []byte(Header)) {
		return fmt.Errorf("datagram does not start with the daemon header %q", Header)
	}
	return Validate(b[len(Header):])
}

// Validate checks one segment document (a segment or an independently sent
// subsegment). The returned error lists every problem found.
func Validate(doc []byte) error {
	if len(doc) > MaxDocumentSize {
		return fmt.Errorf("document is %d bytes, over %d", len(doc), MaxDocumentSize)
	}
	if err := checkDuplicateKeys(doc); err != nil {
		return err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the document")
	}
	v := &validator{}
	v.entity(m, "", true)
	return errors.Join(v.errs...)
}

type validator struct{ errs []error }

func (v *validator) fail(path, format string, args ...any) {
	path = strings.TrimPrefix(path, ".")
	if path == "" {
		path = "document"
	}
	v.errs = append(v.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// IsTraceID reports whether s is an X-Ray trace id: "1-" + 8 hex + "-" + 24 hex (lowercase).
func IsTraceID(s string) bool {
	return len(s) == 35 && s[:2] == "1-" && s[10] == '-' && isHex(s[2:10], 8) && isHex(s[11:], 24)
}

// IsID reports whether s is a (sub)segment or exception id: 16 lowercase hex.
func IsID(s string) bool { return isHex(s, 16) }

// IsName reports whether s is a valid X-Ray name: 1–200 bytes of Unicode
// letters, digits, whitespace and _ . : / % & # = + \ - @.
func IsName(s string) bool {
	if s == "" || len(s) > 200 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune(`_.:/%&#=+\-@`, r) {
			continue
		}
		return false
	}
	return true
}

// IsAnnotationKey reports whether k uses only [A-Za-z0-9_].
func IsAnnotationKey(k string) bool {
	if k == "" || len(k) > 250 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func num(x any) (float64, bool) {
	n, ok := x.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

func isInt(x any) bool {
	n, ok := x.(json.Number)
	if !ok {
		return false
	}
	_, err := n.Int64()
	return err == nil
}

func (v *validator) entity(m map[string]any, path string, top bool) {
	typ, hasType := m["type"]
	isSub := !top || hasType
	if hasType && typ != "subsegment" {
		v.fail(path+".type", "must be \"subsegment\", got %v", typ)
	}
	if _, ok := m["Dummy"]; ok {
		v.fail(path+".Dummy", "aws-xray-sdk-go artefact must not be sent")
	}
	if _, ok := m["inferred"]; ok {
		v.fail(path+".inferred", "service-generated field must not be sent")
	}
	name, _ := m["name"].(string)
	if !IsName(name) {
		v.fail(path+".name", "missing or invalid name %q", name)
	}
	if id, _ := m["id"].(string); !IsID(id) {
		v.fail(path+".id", "want 16 lowercase hex digits, got %q", id)
	}
	if tid, ok := m["trace_id"]; ok {
		if s, _ := tid.(string); !IsTraceID(s) {
			v.fail(path+".trace_id", "not an X-Ray trace id: %v", tid)
		}
	} else if top {
		v.fail(path+".trace_id", "required")
	}
	if pid, ok := m["parent_id"]; ok {
		if s, _ := pid.(string); !IsID(s) {
			v.fail(path+".parent_id", "want 16 lowercase hex digits, got %v", pid)
		}
	} else if top && hasType {
		v.fail(path+".parent_id", "required on an independent subsegment")
	}
	start, ok := num(m["start_time"])
	if !ok || start <= 0 {
		v.fail(path+".start_time", "missing or not a positive number")
	}
	end, hasEnd := m["end_time"]
	prog, hasProg := m["in_progress"]
	switch {
	case hasEnd && hasProg && prog == true:
		v.fail(path, "both end_time and in_progress")
	case hasEnd:
		if e, ok := num(end); !ok || e < start {
			v.fail(path+".end_time", "not a number ≥ start_time: %v", end)
		}
	case hasProg:
		if prog != true {
			v.fail(path+".in_progress", "must be true when end_time is absent")
		}
	default:
		v.fail(path, "neither end_time nor in_progress")
	}
	if ns, ok := m["namespace"]; ok {
		if !isSub {
			v.fail(path+".namespace", "only allowed on subsegments")
		}
		if ns != "aws" && ns != "remote" {
			v.fail(path+".namespace", "must be aws or remote, got %v", ns)
		}
	}
	for _, k := range []string{"fault", "error", "throttle", "in_progress"} {
		if x, ok := m[k]; ok {
			if _, isBool := x.(bool); !isBool {
				v.fail(path+"."+k, "must be a boolean")
			}
		}
	}
	for _, k := range []string{"origin", "user", "resource_arn"} {
		if x, ok := m[k]; ok {
			if s, isStr := x.(string); !isStr || utf8.RuneCountInString(s) > 250 {
				v.fail(path+"."+k, "must be a string of ≤ 250 characters")
			}
			if isSub && k != "resource_arn" {
				v.fail(path+"."+k, "segment-only field on a subsegment")
			}
		}
	}
	if x, ok := m["http"]; ok {
		v.http(x, path+".http", isSub)
	}
	for _, k := range []string{"aws", "sql", "service"} {
		if x, ok := m[k]; ok {
			if _, isObj := x.(map[string]any); !isObj {
				v.fail(path+"."+k, "must be an object")
			}
		}
	}
	if x, ok := m["annotations"]; ok {
		v.annotations(x, path+".annotations")
	}
	if x, ok := m["metadata"]; ok {
		md, isObj := x.(map[string]any)
		if !isObj {
			v.fail(path+".metadata", "must be an object")
		}
		for ns, val := range md {
			if _, isObj := val.(map[string]any); !isObj {
				v.fail(path+".metadata."+ns, "namespace must be an object")
			}
		}
	}
	if x, ok := m["cause"]; ok {
		v.cause(x, path+".cause")
	}
	if x, ok := m["links"]; ok {
		v.links(x, path+".links")
	}
	if x, ok := m["subsegments"]; ok {
		subs, isArr := x.([]any)
		if !isArr {
			v.fail(path+".subsegments", "must be an array")
		}
		for i, s := range subs {
			sm, isObj := s.(map[string]any)
			if !isObj {
				v.fail(fmt.Sprintf("%s.subsegments[%d]", path, i), "must be an object")
				continue
			}
			v.entity(sm, fmt.Sprintf("%s.subsegments[%d]", path, i), false)
		}
	}
}

func (v *validator) http(x any, path string, isSub bool) {
	h, ok := x.(map[string]any)
	if !ok {
		v.fail(path, "must be an object")
		return
	}
	if rq, ok := h["request"]; ok {
		r, isObj := rq.(map[string]any)
		if !isObj {
			v.fail(path+".request", "must be an object")
		}
		for _, k := range []string{"method", "url", "user_agent", "client_ip"} {
			if s, ok := r[k]; ok {
				// X-Ray keeps long URLs whole (the X-Ray SDKs and the
				// collector send them uncut); our encoder bounds them at 8 KiB.
				limit := 250
				if k == "url" {
					limit = 8 << 10
				}
				if str, isStr := s.(string); !isStr || utf8.RuneCountInString(str) > limit {
					v.fail(path+".request."+k, "must be a string of ≤ %d characters", limit)
				}
			}
		}
		if xff, ok := r["x_forwarded_for"]; ok {
			if _, isBool := xff.(bool); !isBool || isSub {
				v.fail(path+".request.x_forwarded_for", "boolean, segments only")
			}
		}
		if tr, ok := r["traced"]; ok {
			if _, isBool := tr.(bool); !isBool || !isSub {
				v.fail(path+".request.traced", "boolean, subsegments only")
			}
		}
	}
	if rs, ok := h["response"]; ok {
		r, isObj := rs.(map[string]any)
		if !isObj {
			v.fail(path+".response", "must be an object")
		}
		for _, k := range []string{"status", "content_length"} {
			if n, ok := r[k]; ok && !isInt(n) {
				v.fail(path+".response."+k, "must be an integer")
			}
		}
	}
}

func (v *validator) annotations(x any, path string) {
	a, ok := x.(map[string]any)
	if !ok {
		v.fail(path, "must be an object")
		return
	}
	if len(a) > 50 {
		v.fail(path, "%d annotations, X-Ray indexes at most 50", len(a))
	}
	for k, val := range a {
		if !IsAnnotationKey(k) {
			v.fail(path, "key %q outside [A-Za-z0-9_]", k)
		}
		switch val := val.(type) {
		case string:
			if utf8.RuneCountInString(val) > 250 {
				v.fail(path+"."+k, "string values hold at most 250 characters")
			}
		case bool, json.Number:
		default:
			v.fail(path+"."+k, "value must be a string, number or boolean")
		}
	}
}

func (v *validator) cause(x any, path string) {
	if s, ok := x.(string); ok {
		if !IsID(s) {
			v.fail(path, "exception id reference must be 16 hex digits")
		}
		return
	}
	c, ok := x.(map[string]any)
	if !ok {
		v.fail(path, "must be an exception id or an object")
		return
	}
	exs, ok := c["exceptions"].([]any)
	if !ok {
		if _, has := c["exceptions"]; has {
			v.fail(path+".exceptions", "must be an array")
		}
		return
	}
	for i, e := range exs {
		p := fmt.Sprintf("%s.exceptions[%d]", path, i)
		em, ok := e.(map[string]any)
		if !ok {
			v.fail(p, "must be an object")
			continue
		}
		if id, _ := em["id"].(string); !IsID(id) {
			v.fail(p+".id", "required, 16 hex digits")
		}
		if st, ok := em["stack"]; ok {
			frames, isArr := st.([]any)
			if !isArr {
				v.fail(p+".stack", "must be an array")
			}
			for j, f := range frames {
				fm, isObj := f.(map[string]any)
				if !isObj {
					v.fail(fmt.Sprintf("%s.stack[%d]", p, j), "must be an object")
					continue
				}
				if l, ok := fm["line"]; ok && !isInt(l) {
					v.fail(fmt.Sprintf("%s.stack[%d].line", p, j), "must be an integer")
				}
			}
		}
	}
}

func (v *validator) links(x any, path string) {
	ls, ok := x.([]any)
	if !ok {
		v.fail(path, "must be an array")
		return
	}
	if len(ls) > 20 {
		v.fail(path, "%d links, X-Ray allows 20 per segment", len(ls))
	}
	for i, l := range ls {
		p := fmt.Sprintf("%s[%d]", path, i)
		lm, ok := l.(map[string]any)
		if !ok {
			v.fail(p, "must be an object")
			continue
		}
		if s, _ := lm["trace_id"].(string); !IsTraceID(s) {
			v.fail(p+".trace_id", "not an X-Ray trace id")
		}
		if s, _ := lm["id"].(string); !IsID(s) {
			v.fail(p+".id", "want 16 hex digits")
		}
		if a, ok := lm["attributes"]; ok {
			if _, isObj := a.(map[string]any); !isObj {
				v.fail(p+".attributes", "must be an object")
			}
		}
	}
}

// checkDuplicateKeys walks the token stream and rejects an object that
// repeats a key (decoders disagree on which value wins).
func checkDuplicateKeys(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next string token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("invalid JSON: %w", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isStr := tok.(string); isStr && top != nil && top.obj && top.key {
			if top.keys[k] {
				return fmt.Errorf("duplicate key %q", k)
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			default:
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
