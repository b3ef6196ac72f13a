package xraysampling

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// maxLocalRules bounds a local rules document (X-Ray allows 25 custom rules
// per region; local files are expected to be as small).
const maxLocalRules = 1000

// localDoc is the X-Ray local sampling-rule document (versions 1 and 2).
type localDoc struct {
	Version *int        `json:"version"`
	Default *localRule  `json:"default"`
	Rules   []localRule `json:"rules"`
}

type localRule struct {
	Description string   `json:"description"`
	Host        string   `json:"host"`
	ServiceName string   `json:"service_name"` // version 1 name of host
	HTTPMethod  string   `json:"http_method"`
	URLPath     string   `json:"url_path"`
	FixedTarget *int64   `json:"fixed_target"`
	Rate        *float64 `json:"rate"`
}

// defaultLocalRules is X-Ray's built-in rule: 1 request/s, then 5 %.
func defaultLocalRules() []*rule {
	return []*rule{newRule(DefaultRuleName, math.MaxInt32, "*", "*", "*", 1, 0.05)}
}

// parseLocalRules parses a local rules document into evaluation order: the
// custom rules as listed, then the default rule.
func parseLocalRules(data []byte) ([]*rule, error) {
	var doc localDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("xraysampling: local rules: %w", err)
	}
	if doc.Version == nil {
		return nil, errors.New("xraysampling: local rules: missing version")
	}
	v := *doc.Version
	if v != 1 && v != 2 {
		return nil, fmt.Errorf("xraysampling: local rules: unsupported version %d (want 1 or 2)", v)
	}
	if doc.Default == nil {
		return nil, errors.New("xraysampling: local rules: missing default rule")
	}
	if len(doc.Rules) > maxLocalRules {
		return nil, fmt.Errorf("xraysampling: local rules: %d rules (max %d)", len(doc.Rules), maxLocalRules)
	}
	size, rate, err := checkTargetRate(doc.Default)
	if err != nil {
		return nil, fmt.Errorf("xraysampling: local rules: default: %w", err)
	}
	out := make([]*rule, 0, len(doc.Rules)+1)
	for i := range doc.Rules {
		lr := &doc.Rules[i]
		s, r, err := checkTargetRate(lr)
		if err != nil {
			return nil, fmt.Errorf("xraysampling: local rules: rule %d: %w", i, err)
		}
		host := lr.Host
		if v == 1 && host == "" {
			host = lr.ServiceName // version 1 called the Host pattern service_name
		}
		name := lr.Description
		if name == "" {
			name = "local-" + strconv.Itoa(i)
		}
		out = append(out, newRule(name, i, host, lr.HTTPMethod, lr.URLPath, s, r))
	}
	return append(out, newRule(DefaultRuleName, math.MaxInt32, "*", "*", "*", size, rate)), nil
}

func checkTargetRate(lr *localRule) (int64, float64, error) {
	if lr.FixedTarget == nil || lr.Rate == nil {
		return 0, 0, errors.New("fixed_target and rate are required")
	}
	if *lr.FixedTarget < 0 {
		return 0, 0, fmt.Errorf("fixed_target %d < 0", *lr.FixedTarget)
	}
	if r := *lr.Rate; !(r >= 0 && r <= 1) {
		return 0, 0, fmt.Errorf("rate %v outside [0,1]", r)
	}
	return *lr.FixedTarget, *lr.Rate, nil
}
