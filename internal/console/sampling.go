package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/o11y-go/o11y/internal/xraywire"
)

// samplingProxy answers the X-Ray daemon's sampling endpoints
// (POST /GetSamplingRules, POST /SamplingTargets) from local rules, so
// centralized sampling works without AWS. Every client gets each rule's full
// reservoir: locally there is one instance per service.
type samplingProxy struct {
	mu       sync.Mutex
	rules    []xraywire.SamplingRule
	modified time.Time
	now      func() time.Time
	stats    *Stats
}

func newRule(name string, prio int, host, method, path string, target int64, rate float64) xraywire.SamplingRule {
	star := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	return xraywire.SamplingRule{
		RuleName: name, RuleARN: "arn:aws:xray:local:000000000000:sampling-rule/" + name,
		ResourceARN: "*", Priority: prio, FixedRate: rate, ReservoirSize: target,
		ServiceName: "*", ServiceType: "*", Host: star(host), HTTPMethod: star(method), URLPath: star(path),
		Version: 1, Attributes: map[string]string{},
	}
}

// defaultSamplingRules is X-Ray's default rule: one request per second,
// then 5 %.
func defaultSamplingRules() []xraywire.SamplingRule {
	return []xraywire.SamplingRule{newRule("Default", 10000, "*", "*", "*", 1, 0.05)}
}

// parseSamplingRules reads an X-Ray local sampling rules document (version
// 1 or 2, as the SDKs' AWS_XRAY_SAMPLING_RULES files) into API rules.
func parseSamplingRules(data []byte) ([]xraywire.SamplingRule, error) {
	type lr struct {
		Description string   `json:"description"`
		Host        string   `json:"host"`
		ServiceName string   `json:"service_name"`
		HTTPMethod  string   `json:"http_method"`
		URLPath     string   `json:"url_path"`
		FixedTarget *int64   `json:"fixed_target"`
		Rate        *float64 `json:"rate"`
	}
	var doc struct {
		Version *int `json:"version"`
		Default *lr  `json:"default"`
		Rules   []lr `json:"rules"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("sampling rules: %w", err)
	}
	if doc.Version == nil || (*doc.Version != 1 && *doc.Version != 2) {
		return nil, errors.New("sampling rules: version must be 1 or 2")
	}
	if doc.Default == nil {
		return nil, errors.New("sampling rules: missing default rule")
	}
	check := func(what string, r *lr) error {
		if r.FixedTarget == nil || r.Rate == nil {
			return fmt.Errorf("sampling rules: %s: fixed_target and rate are required", what)
		}
		if *r.FixedTarget < 0 || !(*r.Rate >= 0 && *r.Rate <= 1) || math.IsNaN(*r.Rate) {
			return fmt.Errorf("sampling rules: %s: fixed_target must be >= 0 and rate in [0,1]", what)
		}
		return nil
	}
	if err := check("default", doc.Default); err != nil {
		return nil, err
	}
	var out []xraywire.SamplingRule
	for i := range doc.Rules {
		r := &doc.Rules[i]
		if err := check(fmt.Sprintf("rule %d", i+1), r); err != nil {
			return nil, err
		}
		host := r.Host
		if host == "" {
			host = r.ServiceName
		}
		name := r.Description
		if name == "" || len(name) > 32 {
			name = fmt.Sprintf("local-%d", i+1)
		}
		out = append(out, newRule(name, i+1, host, r.HTTPMethod, r.URLPath, *r.FixedTarget, *r.Rate))
	}
	return append(out, newRule("Default", 10000, "*", "*", "*", *doc.Default.FixedTarget, *doc.Default.Rate)), nil
}

const maxSamplingBody = 1 << 20

func (p *samplingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.stats.SamplingRequest.Add(1)
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSamplingBody))
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	rules := p.rules
	modified := p.modified
	p.mu.Unlock()
	now := p.now()
	epoch := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	var out any
	switch r.URL.Path {
	case "/GetSamplingRules":
		type rec struct {
			SamplingRule xraywire.SamplingRule `json:"SamplingRule"`
			CreatedAt    float64               `json:"CreatedAt"`
			ModifiedAt   float64               `json:"ModifiedAt"`
		}
		recs := make([]rec, len(rules))
		for i, r := range rules {
			recs[i] = rec{SamplingRule: r, CreatedAt: epoch(modified), ModifiedAt: epoch(modified)}
		}
		out = map[string]any{"SamplingRuleRecords": recs}
	case "/SamplingTargets":
		var in struct {
			SamplingStatisticsDocuments []struct {
				RuleName string `json:"RuleName"`
			} `json:"SamplingStatisticsDocuments"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, `{"message":"bad request"}`, http.StatusBadRequest)
			return
		}
		type target struct {
			RuleName          string  `json:"RuleName"`
			FixedRate         float64 `json:"FixedRate"`
			ReservoirQuota    int64   `json:"ReservoirQuota"`
			ReservoirQuotaTTL float64 `json:"ReservoirQuotaTTL"`
			Interval          int64   `json:"Interval"`
		}
		type unprocessed struct {
			RuleName  string `json:"RuleName"`
			ErrorCode string `json:"ErrorCode"`
			Message   string `json:"Message"`
		}
		targets := []target{}
		unproc := []unprocessed{}
		for _, d := range in.SamplingStatisticsDocuments {
			found := false
			for _, r := range rules {
				if r.RuleName == d.RuleName {
					targets = append(targets, target{RuleName: r.RuleName, FixedRate: r.FixedRate,
						ReservoirQuota: r.ReservoirSize, ReservoirQuotaTTL: epoch(now.Add(time.Minute)), Interval: 10})
					found = true
					break
				}
			}
			if !found && len(unproc) < 100 {
				unproc = append(unproc, unprocessed{RuleName: d.RuleName, ErrorCode: "400", Message: "unknown rule"})
			}
		}
		out = map[string]any{"SamplingTargetDocuments": targets, "LastRuleModification": epoch(modified), "UnprocessedStatistics": unproc}
	default:
		http.Error(w, `{"message":"the local console answers only /GetSamplingRules and /SamplingTargets"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
