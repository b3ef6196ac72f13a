package emfvalidate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/o11y-go/o11y/internal/emfspec"
)

// MaxLine is the SDK's line budget: every EMF line, newline included, must be
// shorter than 16 KiB so no log driver ever splits it.
const MaxLine = emfspec.MaxLine

// Limits from the EMF specification and the CloudWatch API.
const (
	MaxMetricsPerDirective = 100
	MaxValuesPerMetric     = 100
	MaxDimensionKeys       = 30
	MaxDimensionKeyLen     = 250
	MaxDimensionValueLen   = 1024
	MaxNameLen             = 255
	MaxNamespaceLen        = 255
)

// Units are the 27 units CloudWatch accepts.
var Units = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true,
	"Bytes": true, "Kilobytes": true, "Megabytes": true, "Gigabytes": true, "Terabytes": true,
	"Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true,
	"Count/Second": true, "None": true,
}

var (
	maxMagnitude = math.Ldexp(1, 360)
	minMagnitude = math.Ldexp(1, -360)
)

// Doc is a parsed EMF document.
type Doc struct {
	Timestamp     int64
	LogGroupName  string
	LogStreamName string
	Directives    []Directive
	// Members holds every root member except "_aws", as decoded by
	// encoding/json (numbers are float64).
	Members map[string]any
}

// SampleCount returns how many samples the root member metric holds: 1 for
// a number, the length of an array, Count for a statistic set or a
// Values/Counts distribution. ok is false when the member is absent or not
// a metric value.
func (d *Doc) SampleCount(metric string) (n int, ok bool) {
	switch x := d.Members[metric].(type) {
	case float64:
		return 1, true
	case []any:
		return len(x), true
	case map[string]any:
		if c, ok := x["Count"].(float64); ok {
			return int(c), true
		}
	}
	return 0, false
}

// Directive is one entry of CloudWatchMetrics.
type Directive struct {
	Namespace  string
	Dimensions [][]string
	Metrics    []MetricDef
}

// MetricDef is one metric definition.
type MetricDef struct {
	Name              string
	Unit              string
	StorageResolution int
}

// Validate checks line against every rule (see the package documentation),
// with the timestamp window measured from time.Now.
func Validate(line []byte) error {
	_, err := ParseAt(line, time.Now())
	return err
}

// ValidateAt is Validate with the timestamp window measured from now; a zero
// now skips the window check (golden files written with a fixed clock).
func ValidateAt(line []byte, now time.Time) error {
	_, err := ParseAt(line, now)
	return err
}

// Parse validates line like Validate and returns the decoded document.
func Parse(line []byte) (*Doc, error) { return ParseAt(line, time.Now()) }

// ParseAt validates line like ValidateAt and returns the decoded document.
func ParseAt(line []byte, now time.Time) (*Doc, error) {
	body := line
	if n := len(body); n > 0 && body[n-1] == '\n' {
		body = body[:n-1]
	}
	if len(body)+1 >= MaxLine {
		return nil, fmt.Errorf("emf: line is %d bytes with its newline, limit is < %d", len(body)+1, MaxLine)
	}
	if i := bytes.IndexAny(body, "\r\n"); i >= 0 {
		return nil, fmt.Errorf("emf: raw line break at byte %d", i)
	}
	if !json.Valid(body) {
		return nil, errors.New("emf: not valid JSON")
	}
	if err := checkNoDuplicateKeys(body); err != nil {
		return nil, err
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(body, &root); err != nil {
		return nil, fmt.Errorf("emf: root is not an object: %w", err)
	}
	rawAWS, ok := root["_aws"]
	if !ok {
		return nil, errors.New("emf: missing _aws")
	}
	var aws map[string]json.RawMessage
	if err := json.Unmarshal(rawAWS, &aws); err != nil {
		return nil, fmt.Errorf("emf: _aws is not an object: %w", err)
	}
	doc := &Doc{Members: map[string]any{}}
	for k := range aws {
		switch k {
		case "Timestamp", "CloudWatchMetrics":
		case "LogGroupName", "LogStreamName":
			var s string
			if err := json.Unmarshal(aws[k], &s); err != nil || s == "" {
				return nil, fmt.Errorf("emf: _aws.%s must be a non-empty string", k)
			}
			if k == "LogGroupName" {
				doc.LogGroupName = s
			} else {
				doc.LogStreamName = s
			}
		default:
			return nil, fmt.Errorf("emf: unknown member _aws.%s", k)
		}
	}
	ts, ok := aws["Timestamp"]
	if !ok {
		return nil, errors.New("emf: missing _aws.Timestamp")
	}
	if err := checkInteger(ts); err != nil {
		return nil, fmt.Errorf("emf: _aws.Timestamp: %w", err)
	}
	if err := json.Unmarshal(ts, &doc.Timestamp); err != nil {
		return nil, fmt.Errorf("emf: _aws.Timestamp: %w", err)
	}
	if !now.IsZero() {
		t := time.UnixMilli(doc.Timestamp)
		if t.Before(now.Add(-14*24*time.Hour)) || t.After(now.Add(2*time.Hour)) {
			return nil, fmt.Errorf("emf: _aws.Timestamp %d outside 14 days back .. 2 hours ahead", doc.Timestamp)
		}
	}
	rawCWM, ok := aws["CloudWatchMetrics"]
	if !ok {
		return nil, errors.New("emf: missing _aws.CloudWatchMetrics")
	}
	var directives []map[string]json.RawMessage
	if err := json.Unmarshal(rawCWM, &directives); err != nil {
		return nil, fmt.Errorf("emf: CloudWatchMetrics must be an array of objects: %w", err)
	}
	for k, v := range root {
		if k == "_aws" {
			continue
		}
		var x any
		_ = json.Unmarshal(v, &x)
		doc.Members[k] = x
	}
	for i, d := range directives {
		dir, err := checkDirective(d, root)
		if err != nil {
			return nil, fmt.Errorf("emf: directive %d: %w", i, err)
		}
		doc.Directives = append(doc.Directives, dir)
	}
	return doc, nil
}

func checkDirective(d map[string]json.RawMessage, root map[string]json.RawMessage) (Directive, error) {
	var dir Directive
	for k := range d {
		if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
			return dir, fmt.Errorf("unknown member %q", k)
		}
	}
	if err := json.Unmarshal(d["Namespace"], &dir.Namespace); err != nil || d["Namespace"] == nil {
		return dir, errors.New("Namespace must be a string")
	}
	if err := CheckNamespace(dir.Namespace); err != nil {
		return dir, err
	}
	if d["Dimensions"] == nil {
		return dir, errors.New("missing Dimensions")
	}
	if err := json.Unmarshal(d["Dimensions"], &dir.Dimensions); err != nil {
		return dir, errors.New("Dimensions must be an array of string arrays")
	}
	if len(dir.Dimensions) == 0 {
		return dir, errors.New(`Dimensions must have at least one set (use [[]] for none)`)
	}
	dimKeys := map[string]bool{}
	for _, set := range dir.Dimensions {
		if set == nil {
			return dir, errors.New("dimension set must be an array")
		}
		if len(set) > MaxDimensionKeys {
			return dir, fmt.Errorf("dimension set has %d keys, limit %d", len(set), MaxDimensionKeys)
		}
		seen := map[string]bool{}
		for _, k := range set {
			if seen[k] {
				return dir, fmt.Errorf("dimension key %q twice in one set", k)
			}
			seen[k] = true
			if err := checkText(k, MaxDimensionKeyLen); err != nil {
				return dir, fmt.Errorf("dimension key %q: %w", k, err)
			}
			if k[0] == ':' {
				return dir, fmt.Errorf("dimension key %q starts with ':'", k)
			}
			raw, ok := root[k]
			if !ok {
				return dir, fmt.Errorf("dimension %q has no root member", k)
			}
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return dir, fmt.Errorf("dimension %q value is not a string", k)
			}
			if err := checkText(v, MaxDimensionValueLen); err != nil {
				return dir, fmt.Errorf("dimension %q value: %w", k, err)
			}
			dimKeys[k] = true
		}
	}
	if d["Metrics"] == nil {
		return dir, errors.New("missing Metrics")
	}
	var defs []map[string]json.RawMessage
	if err := json.Unmarshal(d["Metrics"], &defs); err != nil {
		return dir, errors.New("Metrics must be an array of objects")
	}
	if len(defs) > MaxMetricsPerDirective {
		return dir, fmt.Errorf("%d metrics, limit %d", len(defs), MaxMetricsPerDirective)
	}
	names := map[string]bool{}
	for _, def := range defs {
		var md MetricDef
		for k := range def {
			if k != "Name" && k != "Unit" && k != "StorageResolution" {
				return dir, fmt.Errorf("metric definition has unknown member %q", k)
			}
		}
		if err := json.Unmarshal(def["Name"], &md.Name); err != nil || def["Name"] == nil {
			return dir, errors.New("metric Name must be a string")
		}
		if err := checkText(md.Name, MaxNameLen); err != nil {
			return dir, fmt.Errorf("metric name %q: %w", md.Name, err)
		}
		if md.Name == "_aws" || dimKeys[md.Name] {
			return dir, fmt.Errorf("metric name %q collides with _aws or a dimension key", md.Name)
		}
		if names[md.Name] {
			return dir, fmt.Errorf("metric %q defined twice", md.Name)
		}
		names[md.Name] = true
		if u, ok := def["Unit"]; ok {
			if err := json.Unmarshal(u, &md.Unit); err != nil || !Units[md.Unit] {
				return dir, fmt.Errorf("metric %q: invalid unit %s", md.Name, u)
			}
		}
		if r, ok := def["StorageResolution"]; ok {
			if err := checkInteger(r); err != nil {
				return dir, fmt.Errorf("metric %q: StorageResolution: %w", md.Name, err)
			}
			_ = json.Unmarshal(r, &md.StorageResolution)
			if md.StorageResolution != 1 && md.StorageResolution != 60 {
				return dir, fmt.Errorf("metric %q: StorageResolution %d is not 1 or 60", md.Name, md.StorageResolution)
			}
		}
		raw, ok := root[md.Name]
		if !ok {
			return dir, fmt.Errorf("metric %q has no root member", md.Name)
		}
		if err := checkValue(raw); err != nil {
			return dir, fmt.Errorf("metric %q: %w", md.Name, err)
		}
		dir.Metrics = append(dir.Metrics, md)
	}
	return dir, nil
}

// CheckNamespace reports whether ns is an acceptable CloudWatch namespace.
func CheckNamespace(ns string) error {
	if ns == "" || len(ns) > MaxNamespaceLen {
		return fmt.Errorf("namespace length %d not in 1..%d", len(ns), MaxNamespaceLen)
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._#:/ -", c) >= 0) {
			return fmt.Errorf("namespace %q has character %q outside [A-Za-z0-9._#:/ -]", ns, c)
		}
	}
	if ns[0] == ':' {
		return fmt.Errorf("namespace %q starts with ':'", ns)
	}
	if strings.HasPrefix(strings.ToUpper(ns), "AWS/") {
		return fmt.Errorf("namespace %q uses the reserved AWS/ prefix", ns)
	}
	if strings.TrimSpace(ns) == "" {
		return errors.New("namespace is blank")
	}
	return nil
}

// checkText enforces 1..max printable ASCII characters, not blank.
func checkText(s string, max int) error {
	if s == "" || len(s) > max {
		return fmt.Errorf("length %d not in 1..%d", len(s), max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("byte 0x%02x at %d is not printable ASCII", c, i)
		}
	}
	if strings.TrimSpace(s) == "" {
		return errors.New("blank")
	}
	return nil
}

func checkInteger(raw json.RawMessage) error {
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return errors.New("missing")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || i == 0 && c == '-') {
			return fmt.Errorf("%s is not an integer literal", s)
		}
	}
	return nil
}

func checkNumber(raw json.RawMessage) (float64, error) {
	var f float64
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, fmt.Errorf("%s is not a number", raw)
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, fmt.Errorf("%s is not a number", raw)
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("non-finite number")
	}
	if a := math.Abs(f); a != 0 && (a > maxMagnitude || a < minMagnitude) {
		return 0, fmt.Errorf("%g outside CloudWatch's range 2^-360..2^360", f)
	}
	return f, nil
}

func checkValue(raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return errors.New("empty value")
	}
	switch raw[0] {
	case '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return err
		}
		if len(arr) == 0 || len(arr) > MaxValuesPerMetric {
			return fmt.Errorf("array has %d values, want 1..%d", len(arr), MaxValuesPerMetric)
		}
		for _, v := range arr {
			if _, err := checkNumber(v); err != nil {
				return err
			}
		}
		return nil
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return err
		}
		return checkAggregate(obj)
	default:
		_, err := checkNumber(raw)
		return err
	}
}

func checkAggregate(obj map[string]json.RawMessage) error {
	_, hasValues := obj["Values"]
	allowed := map[string]bool{"Max": true, "Min": true, "Count": true, "Sum": true}
	if hasValues {
		allowed["Values"], allowed["Counts"] = true, true
	}
	for k := range obj {
		if !allowed[k] {
			return fmt.Errorf("aggregate object has unknown member %q", k)
		}
	}
	stats := map[string]float64{}
	for k := range map[string]bool{"Max": true, "Min": true, "Count": true, "Sum": true} {
		raw, ok := obj[k]
		if !ok {
			return fmt.Errorf("aggregate object lacks %q", k)
		}
		f, err := checkNumber(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		stats[k] = f
	}
	if stats["Min"] > stats["Max"] {
		return fmt.Errorf("Min %g > Max %g", stats["Min"], stats["Max"])
	}
	if stats["Count"] <= 0 {
		return fmt.Errorf("Count %g must be positive", stats["Count"])
	}
	if !hasValues {
		return nil
	}
	var vals, counts []json.RawMessage
	if err := json.Unmarshal(obj["Values"], &vals); err != nil {
		return errors.New("Values must be an array")
	}
	if err := json.Unmarshal(obj["Counts"], &counts); err != nil || obj["Counts"] == nil {
		return errors.New("Counts must be an array")
	}
	if len(vals) != len(counts) {
		return fmt.Errorf("%d Values but %d Counts", len(vals), len(counts))
	}
	if len(vals) == 0 || len(vals) > MaxValuesPerMetric {
		return fmt.Errorf("%d Values, want 1..%d", len(vals), MaxValuesPerMetric)
	}
	seen := map[float64]bool{}
	total := 0.0
	for i := range vals {
		v, err := checkNumber(vals[i])
		if err != nil {
			return fmt.Errorf("Values[%d]: %w", i, err)
		}
		if seen[v] {
			return fmt.Errorf("value %g appears twice", v)
		}
		seen[v] = true
		if v < stats["Min"] || v > stats["Max"] {
			return fmt.Errorf("value %g outside Min %g .. Max %g", v, stats["Min"], stats["Max"])
		}
		c, err := checkNumber(counts[i])
		if err != nil {
			return fmt.Errorf("Counts[%d]: %w", i, err)
		}
		if c <= 0 {
			return fmt.Errorf("Counts[%d] = %g must be positive", i, c)
		}
		total += c
	}
	if math.Abs(total-stats["Count"]) > 1e-9*math.Max(1, total) {
		return fmt.Errorf("Count %g differs from the sum of Counts %g", stats["Count"], total)
	}
	return nil
}

// checkNoDuplicateKeys walks the token stream and fails on a repeated member
// name in any object (encoding/json would silently keep the last one).
func checkNoDuplicateKeys(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		obj    bool
		keys   map[string]bool
		expKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("emf: %w", err)
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{':
				if top != nil && top.obj {
					top.expKey = true
				}
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expKey: true})
			case '[':
				if top != nil && top.obj {
					top.expKey = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
			if len(stack) == 0 && d == '}' {
				if dec.More() {
					return errors.New("emf: trailing data after the object")
				}
			}
			continue
		}
		if top == nil {
			return errors.New("emf: document is not an object")
		}
		if top.obj && top.expKey {
			k, _ := tok.(string)
			if top.keys[k] {
				return fmt.Errorf("emf: duplicate member %q", k)
			}
			top.keys[k] = true
			top.expKey = false
			continue
		}
		if top.obj {
			top.expKey = true
		}
	}
}

// IsEMF reports whether line looks like an EMF document (a JSON object with
// an "_aws" member). It does not validate it.
func IsEMF(line []byte) bool {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	var probe struct {
		AWS json.RawMessage `json:"_aws"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.AWS != nil
}

// Documents splits a stream of lines into EMF documents and other lines
// (e.g. JSON log records sharing stdout). Lines are returned without their
// trailing newline; empty lines are skipped.
func Documents(r io.Reader) (emf, other [][]byte, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		cp := append([]byte(nil), line...)
		if IsEMF(cp) {
			emf = append(emf, cp)
		} else {
			other = append(other, cp)
		}
	}
	return emf, other, sc.Err()
}

// ValidateAll validates every EMF document in r (other lines are ignored)
// and returns the parsed documents; the error names the first bad line.
func ValidateAll(r io.Reader, now time.Time) ([]*Doc, error) {
	emf, _, err := Documents(r)
	if err != nil {
		return nil, err
	}
	docs := make([]*Doc, 0, len(emf))
	for i, line := range emf {
		d, err := ParseAt(line, now)
		if err != nil {
			return docs, fmt.Errorf("EMF document %d: %w\n%s", i, err, line)
		}
		docs = append(docs, d)
	}
	return docs, nil
}
