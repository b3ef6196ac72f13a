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

type mapBuilder struct {
	nodes map[string]*MapNode
	edges map[[2]string]*MapEdge
}

func (b *mapBuilder) node(name, typ, kind string) *MapNode {
	id := kind + ":" + name + ":" + typ
	n := b.nodes[id]
	if n == nil {
		n = &MapNode{ID: id, Name: name, Type: typ, Kind: kind}
		b.nodes[id] = n
	}
	return n
}

func (b *mapBuilder) edge(from, to *MapNode, s *span) {
	k := [2]string{from.ID, to.ID}
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

// ServiceMap builds the map of the traces that ended in the window ending
// now (0: all stored traces), as the X-Ray console draws it: a node per
// service (segment name and origin), per AWS resource and per remote host
// called through an aws or remote subsegment whose callee sent no segment,
// and a Client node for requests that entered without a traced caller.
func (s *Store) ServiceMap(window time.Duration) *ServiceMap {
	from := 0.0
	if window > 0 {
		from = float64(s.now().Add(-window).UnixNano()) / 1e9
	}
	b := &mapBuilder{nodes: map[string]*MapNode{}, edges: map[[2]string]*MapEdge{}}
	out := &ServiceMap{}
	type ref struct {
		sp    *span
		owner *span // the segment the span belongs to (itself for segments)
	}
	byID := map[string]ref{}
	var spans []*span
	s.mu.RLock()
	// Services seen in the window: a remote call whose callee segment has
	// not arrived (yet: SDKs send segments in batches) goes to the service
	// of the same name, not to an inferred remote node.
	services := map[string]*span{}
	for _, t := range s.ring {
		if t.rootIdx[0] < 0 || t.end < from {
			continue
		}
		for _, d := range t.docs {
			if sp := &d.spans[0]; sp.seg {
				if _, ok := services[sp.name]; !ok {
					services[sp.name] = sp
				}
			}
		}
	}
	for _, t := range s.ring {
		if t.rootIdx[0] < 0 || t.end < from {
			continue
		}
		out.Traces++
		clear(byID)
		spans = spans[:0]
		for _, d := range t.docs {
			for i := range d.spans {
				sp := &d.spans[i]
				spans = append(spans, sp)
				byID[sp.id] = ref{sp: sp}
			}
		}
		// owner: walk parents (bounded) until a segment.
		ownerOf := func(sp *span) *span {
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
		called := map[string]bool{} // client subsegment ids matched to a callee segment
		for _, sp := range spans {
			if !sp.seg {
				continue
			}
			n := b.node(sp.name, serviceType(sp), "service")
			n.observe(sp)
			if sp.parentID == "" {
				b.edge(b.node("Client", "client", "client"), n, sp)
				continue
			}
			p, ok := byID[sp.parentID]
			if !ok {
				// The caller is not traced (or its segment was not received).
				b.edge(b.node("Client", "client", "client"), n, sp)
				continue
			}
			caller := ownerOf(p.sp)
			if caller == nil {
				continue
			}
			called[p.sp.id] = true
			edgeSpan := p.sp // the client subsegment measures the call
			b.edge(b.node(caller.name, serviceType(caller), "service"), n, edgeSpan)
		}
		for _, sp := range spans {
			if sp.seg || called[sp.id] || (sp.namespace != "aws" && sp.namespace != "remote") {
				continue
			}
			caller := ownerOf(sp)
			if caller == nil {
				continue
			}
			var n *MapNode
			if callee, ok := services[sp.name]; ok && sp.namespace == "remote" {
				n = b.node(callee.name, serviceType(callee), "service")
			} else if sp.namespace == "aws" {
				n = b.node(sp.name, awsNodeType(sp), "aws")
				n.observe(sp)
			} else {
				n = b.node(sp.name, "remote", "remote")
				n.observe(sp)
			}
			b.edge(b.node(caller.name, serviceType(caller), "service"), n, sp)
		}
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
	for _, e := range b.edges {
		if from := b.nodes[e.From]; from != nil && from.Kind == "client" {
			from.Requests += e.Requests
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
