package xraysampling

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/o11y-go/o11y/internal/xraywire"
)

// maxResponse bounds what is read from the proxy.
const maxResponse = 1 << 20

// maxRulePages bounds GetSamplingRules pagination.
const maxRulePages = 20

// poller runs the centralized-sampling loop in one goroutine.
type poller struct {
	s               *Sampler
	client          *http.Client
	base            string
	clientID        string
	rulesInterval   time.Duration
	targetsInterval time.Duration

	ctx     context.Context // cancelled by stop; aborts in-flight requests
	cancel  context.CancelFunc
	refresh chan struct{}
	done    chan struct{}

	lastFetch time.Time // last successful rules poll (poller goroutine only)
}

func newPoller(s *Sampler, opts Options) *poller {
	addr := proxyHostPort(opts.ProxyAddress)
	timeout := opts.HTTPTimeout
	if timeout <= 0 {
		timeout = DefaultHTTPTimeout
	}
	p := &poller{
		s: s,
		client: &http.Client{
			Timeout: timeout,
			// No proxy from the environment: the daemon is a local hop.
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
				MaxIdleConns:        2,
				IdleConnTimeout:     time.Minute,
				TLSHandshakeTimeout: timeout,
			},
		},
		base:            "http://" + addr,
		clientID:        newClientID(),
		rulesInterval:   opts.RulesInterval,
		targetsInterval: opts.TargetsInterval,
		refresh:         make(chan struct{}, 1),
		done:            make(chan struct{}),
	}
	if p.rulesInterval <= 0 {
		p.rulesInterval = DefaultRulesInterval
	}
	if p.targetsInterval <= 0 {
		p.targetsInterval = DefaultTargetsInterval
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// proxyHostPort accepts "host:port", the AWS_XRAY_DAEMON_ADDRESS double form
// "tcp:host:port udp:host:port" (either order) and "http://host:port".
func proxyHostPort(addr string) string {
	addr = strings.TrimSpace(addr)
	if f := strings.Fields(addr); len(f) > 1 {
		addr = ""
		for _, part := range f {
			if rest, ok := strings.CutPrefix(part, "tcp:"); ok {
				addr = rest
			}
		}
	}
	addr = strings.TrimPrefix(addr, "tcp:")
	addr = strings.TrimPrefix(addr, "http://")
	addr = strings.TrimRight(addr, "/")
	if addr == "" {
		return DefaultProxyAddress
	}
	return addr
}

// newClientID returns 24 hex digits (12 random bytes), one per process.
func newClientID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		for i := range b {
			b[i] = byte(mrand.Uint32())
		}
	}
	return hex.EncodeToString(b[:])
}

func (p *poller) start() { go p.run() }

func (p *poller) stop() { p.cancel() }

// jitter spreads polls of many instances: ±interval/60 for rules (≈ ±5 s on
// 300 s, as the X-Ray SDK does) and ±1 % for targets.
func jitter(d time.Duration, div int64) time.Duration {
	j := int64(d) / div
	if j <= 0 {
		return d
	}
	return d + time.Duration(mrand.Int64N(2*j+1)-j)
}

func (p *poller) run() {
	defer close(p.done)
	defer p.client.CloseIdleConnections()
	p.pollRules() // first poll right away, in the background
	rules := time.NewTimer(jitter(p.rulesInterval, 60))
	targets := time.NewTimer(jitter(p.targetsInterval, 100))
	defer rules.Stop()
	defer targets.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-rules.C:
			p.pollRules()
			rules.Reset(jitter(p.rulesInterval, 60))
		case <-p.refresh:
			p.pollRules()
		case <-targets.C:
			p.pollTargets()
			targets.Reset(jitter(p.targetsInterval, 100))
		}
	}
}

func (p *poller) post(path string, body any, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(p.ctx, http.MethodPost, p.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d: %.200s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// apiRule is a rule as the daemon's sampling proxy returns it; the local
// console serves the same shape.
type apiRule = xraywire.SamplingRule

// API shapes (xray.md §5.2).
type (
	getRulesInput struct {
		NextToken *string `json:"NextToken"`
	}
	getRulesOutput struct {
		SamplingRuleRecords []struct {
			SamplingRule *apiRule `json:"SamplingRule"`
		} `json:"SamplingRuleRecords"`
		NextToken *string `json:"NextToken"`
	}
	statisticsDocument struct {
		RuleName     string `json:"RuleName"`
		ClientID     string `json:"ClientID"`
		Timestamp    int64  `json:"Timestamp"`
		RequestCount int64  `json:"RequestCount"`
		SampledCount int64  `json:"SampledCount"`
		BorrowCount  int64  `json:"BorrowCount"`
	}
	getTargetsInput struct {
		SamplingStatisticsDocuments []statisticsDocument `json:"SamplingStatisticsDocuments"`
	}
	getTargetsOutput struct {
		SamplingTargetDocuments []struct {
			RuleName          string   `json:"RuleName"`
			FixedRate         *float64 `json:"FixedRate"`
			ReservoirQuota    *int64   `json:"ReservoirQuota"`
			ReservoirQuotaTTL *float64 `json:"ReservoirQuotaTTL"`
			Interval          *int64   `json:"Interval"`
		} `json:"SamplingTargetDocuments"`
		LastRuleModification  *float64 `json:"LastRuleModification"`
		UnprocessedStatistics []struct {
			RuleName  string `json:"RuleName"`
			ErrorCode string `json:"ErrorCode"`
			Message   string `json:"Message"`
		} `json:"UnprocessedStatistics"`
	}
)

// pollRules fetches every page of rules and installs those that can apply
// to this service, keeping the reservoir state of unchanged rules.
func (p *poller) pollRules() {
	var recs []*apiRule
	in := getRulesInput{}
	for page := 0; page < maxRulePages; page++ {
		var out getRulesOutput
		if err := p.post("/GetSamplingRules", in, &out); err != nil {
			if p.ctx.Err() == nil {
				p.s.rep.Report("xraysampling.rules", fmt.Errorf("xraysampling: GetSamplingRules: %w", err))
			}
			return
		}
		for _, r := range out.SamplingRuleRecords {
			if r.SamplingRule != nil {
				recs = append(recs, r.SamplingRule)
			}
		}
		if out.NextToken == nil || *out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	now := p.s.now()
	old := map[string]*rule{}
	if set := p.s.central.Load(); set != nil {
		for _, r := range set.rules {
			old[r.name] = r
		}
	}
	rules := make([]*rule, 0, len(recs))
	for _, a := range recs {
		r, ok := p.s.buildCentralRule(a)
		if !ok {
			continue
		}
		if o := old[r.name]; o != nil {
			if o.def == r.def {
				r = o // unchanged: keep reservoir, target and counters
			} else if t := o.target.Load(); t != nil {
				r.target.Store(t) // quota still valid until its TTL
			}
		}
		rules = append(rules, r)
	}
	sortRules(rules)
	p.lastFetch = now
	p.s.central.Store(&ruleSet{rules: rules, fetched: now})
}

// buildCentralRule validates a service rule and checks the fields that are
// fixed for this process (service name/type, resource ARN). ok is false for
// rules that can never apply here.
func (s *Sampler) buildCentralRule(a *apiRule) (*rule, bool) {
	if a.Version != 1 || a.RuleName == "" || !(a.FixedRate >= 0 && a.FixedRate <= 1) || a.ReservoirSize < 0 {
		return nil, false
	}
	if !matchField(orStar(a.ServiceName), s.serviceName) ||
		!matchField(orStar(a.ServiceType), s.serviceType) ||
		!matchField(orStar(a.ResourceARN), s.resourceARN) {
		return nil, false
	}
	r := newRule(a.RuleName, a.Priority, a.Host, a.HTTPMethod, a.URLPath, a.ReservoirSize, a.FixedRate)
	r.central = true
	var attrDef string
	r.attrs, attrDef = canonicalAttrs(a.Attributes)
	r.def = strings.Join([]string{
		strconv.Itoa(a.Priority), r.host, r.method, r.path,
		strconv.FormatInt(a.ReservoirSize, 10), strconv.FormatFloat(a.FixedRate, 'g', -1, 64), attrDef,
	}, "\x00")
	return r, true
}

// pollTargets reports the statistics of rules that saw traffic and are due,
// then installs the returned quotas.
func (p *poller) pollTargets() {
	set := p.s.central.Load()
	if set == nil {
		return
	}
	now := p.s.now()
	var docs []statisticsDocument
	byName := make(map[string]*rule, len(set.rules))
	for _, r := range set.rules {
		byName[r.name] = r
		if now.Before(r.nextReport) || r.requests.Load() == 0 {
			continue
		}
		docs = append(docs, statisticsDocument{
			RuleName:     r.name,
			ClientID:     p.clientID,
			Timestamp:    now.Unix(),
			RequestCount: r.requests.Swap(0),
			SampledCount: r.sampled.Swap(0),
			BorrowCount:  r.borrowed.Swap(0),
		})
	}
	if len(docs) == 0 {
		return
	}
	var out getTargetsOutput
	if err := p.post("/SamplingTargets", getTargetsInput{docs}, &out); err != nil {
		if p.ctx.Err() == nil {
			p.s.rep.Report("xraysampling.targets", fmt.Errorf("xraysampling: GetSamplingTargets: %w", err))
		}
		return
	}
	for _, d := range out.SamplingTargetDocuments {
		r := byName[d.RuleName]
		if r == nil {
			continue
		}
		t := target{fixedRate: r.fixedRate}
		if old := r.target.Load(); old != nil {
			t = *old
		}
		if d.FixedRate != nil && *d.FixedRate >= 0 && *d.FixedRate <= 1 {
			t.fixedRate = *d.FixedRate
		}
		if d.ReservoirQuota != nil && *d.ReservoirQuota >= 0 {
			t.quota = *d.ReservoirQuota
		}
		if d.ReservoirQuotaTTL != nil {
			t.expires = epoch(*d.ReservoirQuotaTTL)
		}
		r.target.Store(&t)
		if d.Interval != nil && *d.Interval > 0 {
			r.interval = time.Duration(*d.Interval) * time.Second
			r.nextReport = now.Add(r.interval)
		}
	}
	refresh := out.LastRuleModification != nil && epoch(*out.LastRuleModification).After(p.lastFetch)
	for _, u := range out.UnprocessedStatistics {
		p.s.rep.Report("xraysampling.unprocessed", errors.New("xraysampling: unprocessed statistics for rule "+
			strconv.Quote(u.RuleName)+": "+u.ErrorCode+" "+u.Message))
		if strings.HasPrefix(u.ErrorCode, "4") {
			refresh = true
		}
	}
	if refresh {
		select {
		case p.refresh <- struct{}{}:
		default:
		}
	}
}

// epoch converts X-Ray's fractional epoch seconds.
func epoch(sec float64) time.Time {
	if math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1<<40 {
		return time.Time{}
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9))
}
