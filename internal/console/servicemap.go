package console

import (
	"math"
	"sort"
	"strings"
	"time"
)

// MapNode is one node of the service map.
type MapNode struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Kind      string  `json:"kind"` // client, service, aws, remote
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Throttles int     `json:"throttles"`
	Faults    int     `json:"faults"`
	P50       float64 `json:"p50"` // seconds
	P99       float64 `json:"p99"`
	Health    string  `json:"health"` // ok, error, throttle, fault
	durs      []float64
}

// MapEdge is one edge: calls from one node to another.
type MapEdge struct {
	From      string  `json:"from"`
	To        string  `json:"to"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	Throttles int     `json:"throttles"`
	Faults    int     `json:"faults"`
	P50       float64 `json:"p50"`
	P99       float64 `json:"p99"`
	durs      []float64
}

// ServiceMap is the map of the traces in a window.
type ServiceMap struct {
	Nodes  []*MapNode `json:"nodes"`
	Edges  []*MapEdge `json:"edges"`
	Traces int        `json:"traces"`
}

// awsNodeType is the resource type X-Ray gives an inferred AWS node.
func awsNodeType(s *span) string {
	switch strings.ToLower(s.name) {
	case "dynamodb":
		return "AWS::DynamoDB::Table"
	case "s3":
		return "AWS::S3::Bucket"
	case "sqs":
		return "AWS::SQS::Queue"
	case "sns":
		return "AWS::SNS::Topic"
	case "lambda":
		return "AWS::Lambda::Function"
	case "kinesis":
		return "AWS::Kinesis::Stream"
	case "secretsmanager", "secrets manager":
		return "AWS::SecretsManager"
	case "sts":
		return "AWS::STS"
	}
	return "AWS::" + s.name
}

type nodeKey struct{ kind, name, typ string }

type mapBuilder struct {
	nodes map[nodeKey]*MapNode
	edges map[[2]*MapNode]*MapEdge
}

func (b *mapBuilder) nodeK(k nodeKey) *MapNode {
	n := b.nodes[k]
	if n == nil {
		n = &MapNode{ID: k.kind + ":" + k.name + ":" + k.typ, Name: k.name, Type: k.typ, Kind: k.kind}
		b.nodes[k] = n
	}
	return n
}

func (b *mapBuilder) edge(from, to *MapNode, s *span) {
	k := [2]*MapNode{from, to}
	e := b.edges[k]
	if e == nil {
		e = &MapEdge{From: from.ID, To: to.ID}
		b.edges[k] = e
	}
	e.Requests++
	countFlags(s.flags, &e.Errors, &e.Throttles, &e.Faults)
	e.durs = append(e.durs, s.duration())
}

func countFlags(f docFlags, e, t, fl *int) {
	if f&fError != 0 {
		*e++
	}
	if f&fThrottle != 0 {
		*t++
	}
	if f&fFault != 0 {
		*fl++
	}
}

func (n *MapNode) observe(s *span) {
	n.Requests++
	countFlags(s.flags, &n.Errors, &n.Throttles, &n.Faults)
	n.durs = append(n.durs, s.duration())
}

func serviceType(s *span) string {
	if s.origin != "" {
		return s.origin
	}
	return "service"
}

// percentile returns the q-quantile (nearest rank) of sorted xs.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(q*float64(len(xs)) + 0.5)
	if i > 0 {
		i--
	}
	if i >= len(xs) {
		i = len(xs) - 1
	}
	return xs[i]
}

// mapObs is one contribution of a trace to the service map, computed when
// the trace changes (so a map query only aggregates).
type mapObs struct {
	kind   uint8 // obsNode, obsEdge, obsRemote
	from   nodeKey
	to     nodeKey // obsNode: the node observed
	sp     *span
	remote string // obsRemote: the callee name, resolved at query time
}

const (
	obsNode   uint8 = iota // sp observed at node to
	obsEdge                // a call from -> to measured by sp
	obsRemote              // a remote call whose callee segment is missing
)

func serviceKey(sp *span) nodeKey { return nodeKey{"service", sp.name, serviceType(sp)} }

var clientKey = nodeKey{"client", "Client", "client"}

// mapContrib computes what t contributes to the map. Callers hold the
// store's write lock.
func (t *trace) mapContrib() {
	t.obs = t.obs[:0]
	byID := make(map[string]ref, 8)
	n := 0
	for _, d := range t.docs {
		n += len(d.spans)
		for i := range d.spans {
			byID[d.spans[i].id] = ref{sp: &d.spans[i]}
		}
	}
	called := make(map[string]bool, 4)
	awsCalled := map[string]bool{} // aws subsegments a segment hangs from
	for _, d := range t.docs {
		for i := range d.spans {
			sp := &d.spans[i]
			if !sp.seg {
				continue
			}
			k := serviceKey(sp)
			t.obs = append(t.obs, mapObs{kind: obsNode, to: k, sp: sp})
			p, ok := byID[sp.parentID]
			if sp.parentID == "" || !ok {
				// An entry point, or a caller that is not traced (or whose
				// segment has not arrived).
				t.obs = append(t.obs, mapObs{kind: obsEdge, from: clientKey, to: k, sp: sp})
				continue
			}
			caller := owner(byID, p.sp)
			if caller == nil {
				continue
			}
			called[p.sp.id] = true
			if !p.sp.seg && p.sp.namespace == "aws" {
				// A segment whose parent is an AWS call (an SQS consumer
				// continuing the SendMessage's trace): caller → the AWS
				// resource → this service, as X-Ray draws a queue between
				// producer and consumer. The call is counted once however
				// many messages it sent.
				ak := nodeKey{"aws", p.sp.name, awsNodeType(p.sp)}
				if !awsCalled[p.sp.id] {
					awsCalled[p.sp.id] = true
					t.obs = append(t.obs, mapObs{kind: obsNode, to: ak, sp: p.sp}, mapObs{kind: obsEdge, from: serviceKey(caller), to: ak, sp: p.sp})
				}
				t.obs = append(t.obs, mapObs{kind: obsEdge, from: ak, to: k, sp: sp})
				continue
			}
			// The client subsegment measures the call.
			t.obs = append(t.obs, mapObs{kind: obsEdge, from: serviceKey(caller), to: k, sp: p.sp})
		}
	}
	for _, d := range t.docs {
		for i := range d.spans {
			sp := &d.spans[i]
			if sp.seg || called[sp.id] || (sp.namespace != "aws" && sp.namespace != "remote") {
				continue
			}
			caller := owner(byID, sp)
			if caller == nil {
				continue
			}
			if sp.namespace == "aws" {
				k := nodeKey{"aws", sp.name, awsNodeType(sp)}
				t.obs = append(t.obs, mapObs{kind: obsNode, to: k, sp: sp}, mapObs{kind: obsEdge, from: serviceKey(caller), to: k, sp: sp})
				continue
			}
			t.obs = append(t.obs, mapObs{kind: obsRemote, from: serviceKey(caller), sp: sp, remote: sp.name})
		}
	}
}

// ServiceMap builds the map of the traces that ended in the window ending
// now (0: all stored traces), as the X-Ray console draws it: a node per
// service (segment name and origin), per AWS resource and per remote host
// called through an aws or remote subsegment whose callee sent no segment,
// and a Client node for requests that entered without a traced caller. A
// remote call whose callee segment has not arrived (yet: SDKs send segments
// in batches) goes to the service of the same name when the window has one.
func (s *Store) ServiceMap(window time.Duration) *ServiceMap {
	from := 0.0
	if window > 0 {
		from = float64(s.now().Add(-window).UnixNano()) / 1e9
	}
	b := &mapBuilder{nodes: map[nodeKey]*MapNode{}, edges: map[[2]*MapNode]*MapEdge{}}
	out := &ServiceMap{}
	var remotes []*mapObs
	services := map[string]nodeKey{}
	s.mu.RLock()
	for _, t := range s.ring {
		if t.rootIdx[0] < 0 || t.end < from {
			continue
		}
		out.Traces++
		for i := range t.obs {
			o := &t.obs[i]
			switch o.kind {
			case obsNode:
				b.nodeK(o.to).observe(o.sp)
				if o.to.kind == "service" {
					if _, ok := services[o.to.name]; !ok {
						services[o.to.name] = o.to
					}
				}
			case obsEdge:
				b.edge(b.nodeK(o.from), b.nodeK(o.to), o.sp)
			case obsRemote:
				remotes = append(remotes, o)
			}
		}
	}
	for _, o := range remotes {
		if k, ok := services[o.remote]; ok {
			b.edge(b.nodeK(o.from), b.nodeK(k), o.sp)
			continue
		}
		n := b.nodeK(nodeKey{"remote", o.remote, "remote"})
		n.observe(o.sp)
		b.edge(b.nodeK(o.from), n, o.sp)
	}
	s.mu.RUnlock()

	for _, n := range b.nodes {
		if n.Kind == "client" {
			n.Requests, n.Errors, n.Throttles, n.Faults, n.durs = 0, 0, 0, 0, nil
		}
		sort.Float64s(n.durs)
		n.P50, n.P99 = roundUS(percentile(n.durs, 0.5)), roundUS(percentile(n.durs, 0.99))
		n.Health = health(n.Requests, n.Errors, n.Throttles, n.Faults)
		n.durs = nil
		out.Nodes = append(out.Nodes, n)
	}
	for _, e := range b.edges {
		sort.Float64s(e.durs)
		e.P50, e.P99 = roundUS(percentile(e.durs, 0.5)), roundUS(percentile(e.durs, 0.99))
		e.durs = nil
		out.Edges = append(out.Edges, e)
	}
	for k, e := range b.edges {
		if k[0].Kind == "client" {
			k[0].Requests += e.Requests
		}
	}
	sort.Slice(out.Nodes, func(i, j int) bool { return out.Nodes[i].ID < out.Nodes[j].ID })
	sort.Slice(out.Edges, func(i, j int) bool {
		if out.Edges[i].From != out.Edges[j].From {
			return out.Edges[i].From < out.Edges[j].From
		}
		return out.Edges[i].To < out.Edges[j].To
	})
	return out
}

type ref struct{ sp *span }

// owner walks parents (bounded) from sp to the segment it belongs to.
func owner(byID map[string]ref, sp *span) *span {
	for i := 0; sp != nil && i < 64; i++ {
		if sp.seg {
			return sp
		}
		r, ok := byID[sp.parentID]
		if !ok {
			return nil
		}
		sp = r.sp
	}
	return nil
}

// roundUS rounds seconds to microseconds (what float epoch times carry).
func roundUS(s float64) float64 { return math.Round(s*1e6) / 1e6 }

// health is the colour of a node: fault (red) when 1 % or more of its
// requests faulted, else throttle (purple) or error (orange) likewise, else
// ok (green).
func health(req, errs, thr, faults int) string {
	if req == 0 {
		return "ok"
	}
	pct := func(n int) float64 { return 100 * float64(n) / float64(req) }
	switch {
	case pct(faults) >= 1:
		return "fault"
	case pct(thr) >= 1:
		return "throttle"
	case pct(errs) >= 1:
		return "error"
	}
	return "ok"
}
