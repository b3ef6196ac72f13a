// Package xraywire holds the X-Ray daemon's wire formats. The datagram
// format is shared by the span → segment translator (tracing/xraysegment),
// which keeps documents within one datagram, and the UDP transport
// (tracing/xrayudp), which writes them. The sampling rule shape of the
// daemon's TCP sampling proxy is shared by the centralized sampler
// (tracing/xraysampling), which decodes it, and the local console
// (internal/console), which serves it.
package xraywire

// Header precedes every document sent to the daemon; the daemon drops
// datagrams whose header is not exactly format json, version 1.
const Header = `{"format": "json", "version": 1}` + "\n"

// MaxDatagramSize is the largest UDP payload over IPv4 (and what the
// daemon's 64 KiB read buffer accepts), header included.
const MaxDatagramSize = 65507

// MaxDocumentSize is the largest segment document that fits one datagram
// after Header. Larger documents are trimmed, never split or lost.
const MaxDocumentSize = MaxDatagramSize - len(Header)

// SamplingRule is one rule in the shape of the X-Ray GetSamplingRules API
// (SamplingRuleRecords[].SamplingRule), as the daemon's sampling proxy
// returns it.
type SamplingRule struct {
	RuleName      string            `json:"RuleName"`
	RuleARN       string            `json:"RuleARN"`
	ResourceARN   string            `json:"ResourceARN"`
	Priority      int               `json:"Priority"`
	FixedRate     float64           `json:"FixedRate"`
	ReservoirSize int64             `json:"ReservoirSize"`
	ServiceName   string            `json:"ServiceName"`
	ServiceType   string            `json:"ServiceType"`
	Host          string            `json:"Host"`
	HTTPMethod    string            `json:"HTTPMethod"`
	URLPath       string            `json:"URLPath"`
	Version       int               `json:"Version"`
	Attributes    map[string]string `json:"Attributes"`
}
