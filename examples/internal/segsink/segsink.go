// Package segsink is a tiny stand-in for the X-Ray daemon: a UDP listener on
// loopback that decodes every datagram (`{"format":"json","version":1}\n{...}`)
// into [Segment] values. The local demo prints what it receives; the examples'
// end-to-end tests assert on it. It reads like the real daemon
// (internal/udpsink: kernel-default receive buffer, one reader goroutine, a
// hand-off per datagram), so what the examples show is what a sidecar gets.
//
// It is example and test support code, not part of the SDK.
package segsink

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/o11y-go/o11y/internal/udpsink"
)

// Segment is one decoded X-Ray document: a segment, an independent
// subsegment document (Type "subsegment"), or a subsegment nested in another
// document's "subsegments" array (Nested true, ParentID filled from the
// enclosing document).
type Segment struct {
	Name       string
	ID         string
	ParentID   string
	TraceID    string
	Type       string
	Namespace  string
	Origin     string
	StartTime  float64
	EndTime    float64
	InProgress bool
	Fault      bool
	Error      bool
	Throttle   bool
	HTTP       HTTP
	// Annotations holds the document's indexed annotations (values are
	// string, float64 or bool as decoded by encoding/json).
	Annotations map[string]any
	// Metadata holds the raw "metadata" object, if any.
	Metadata map[string]any
	// Nested is true for subsegments found inside another document.
	Nested bool
	// Raw is the JSON body exactly as received (for a nested subsegment, the
	// nested object).
	Raw json.RawMessage
	// Received is when the datagram arrived.
	Received time.Time
}

// HTTP is the subset of a document's "http" object the examples look at.
type HTTP struct {
	Method string
	URL    string
	Status int
	// Traced is http.request.traced on client subsegments.
	Traced bool
}

// IsSubsegment reports whether s is a subsegment (nested or independent).
func (s *Segment) IsSubsegment() bool { return s.Nested || s.Type == "subsegment" }

// Duration is EndTime-StartTime (0 while in progress).
func (s *Segment) Duration() time.Duration {
	if s.EndTime == 0 || s.EndTime < s.StartTime {
		return 0
	}
	return time.Duration((s.EndTime - s.StartTime) * float64(time.Second))
}

// header is the daemon protocol header every datagram starts with.
type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
}

// wire is the JSON shape decoded from a document.
type wire struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	ParentID    string            `json:"parent_id"`
	TraceID     string            `json:"trace_id"`
	Type        string            `json:"type"`
	Namespace   string            `json:"namespace"`
	Origin      string            `json:"origin"`
	StartTime   float64           `json:"start_time"`
	EndTime     float64           `json:"end_time"`
	InProgress  bool              `json:"in_progress"`
	Fault       bool              `json:"fault"`
	Error       bool              `json:"error"`
	Throttle    bool              `json:"throttle"`
	Annotations map[string]any    `json:"annotations"`
	Metadata    map[string]any    `json:"metadata"`
	Subsegments []json.RawMessage `json:"subsegments"`
	HTTP        *struct {
		Request *struct {
			Method string `json:"method"`
			URL    string `json:"url"`
			Traced bool   `json:"traced"`
		} `json:"request"`
		Response *struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
}

// Decode parses one daemon datagram: the header line, a newline, and one
// segment document. Nested subsegments are returned after their parent.
func Decode(datagram []byte) (body []byte, segs []Segment, err error) {
	i := bytes.IndexByte(datagram, '\n')
	if i < 0 {
		return nil, nil, errors.New("segsink: datagram has no header line")
	}
	var h header
	if err := json.Unmarshal(datagram[:i], &h); err != nil {
		return nil, nil, fmt.Errorf("segsink: bad header %q: %w", datagram[:i], err)
	}
	if !equalFold(h.Format, "json") || h.Version != 1 {
		return nil, nil, fmt.Errorf("segsink: unsupported header %q", datagram[:i])
	}
	body = datagram[i+1:]
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, errors.New("segsink: empty body")
	}
	segs, err = decodeDoc(body, "", "", false, nil)
	return body, segs, err
}

func decodeDoc(raw []byte, parentID, traceID string, nested bool, out []Segment) ([]Segment, error) {
	var w wire
	if err := json.Unmarshal(raw, &w); err != nil {
		return out, fmt.Errorf("segsink: bad document: %w", err)
	}
	s := Segment{
		Name: w.Name, ID: w.ID, ParentID: w.ParentID, TraceID: w.TraceID,
		Type: w.Type, Namespace: w.Namespace, Origin: w.Origin,
		StartTime: w.StartTime, EndTime: w.EndTime, InProgress: w.InProgress,
		Fault: w.Fault, Error: w.Error, Throttle: w.Throttle,
		Annotations: w.Annotations, Metadata: w.Metadata,
		Nested: nested, Raw: append(json.RawMessage(nil), raw...),
	}
	if nested {
		if s.ParentID == "" {
			s.ParentID = parentID
		}
		if s.TraceID == "" {
			s.TraceID = traceID
		}
	}
	if w.HTTP != nil {
		if w.HTTP.Request != nil {
			s.HTTP.Method = w.HTTP.Request.Method
			s.HTTP.URL = w.HTTP.Request.URL
			s.HTTP.Traced = w.HTTP.Request.Traced
		}
		if w.HTTP.Response != nil {
			s.HTTP.Status = w.HTTP.Response.Status
		}
	}
	out = append(out, s)
	var err error
	for _, sub := range w.Subsegments {
		out, err = decodeDoc(sub, s.ID, s.TraceID, true, out)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func equalFold(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// Sink listens for daemon datagrams on a UDP socket and keeps what it decodes.
// All methods are safe for concurrent use.
type Sink struct {
	u *udpsink.Sink

	mu        sync.Mutex
	segs      []Segment
	bodies    [][]byte
	errs      []error
	datagrams int
	notify    func(Segment)
	changed   chan struct{}
}

// Listen starts a sink on addr ("127.0.0.1:0" picks a free port).
func Listen(addr string) (*Sink, error) {
	s := &Sink{changed: make(chan struct{})}
	u, err := udpsink.Listen(udpsink.Options{Addr: addr, Handle: s.handle})
	if err != nil {
		return nil, err
	}
	s.u = u
	return s, nil
}

// Addr is the "host:port" to put in AWS_XRAY_DAEMON_ADDRESS.
func (s *Sink) Addr() string { return s.u.Addr() }

// OnSegment registers fn to be called (on the sink's goroutine) for every
// decoded segment, nested subsegments included. Set it before traffic starts.
func (s *Sink) OnSegment(fn func(Segment)) {
	s.mu.Lock()
	s.notify = fn
	s.mu.Unlock()
}

// handle runs on the stand-in's hand-off goroutine for every datagram.
func (s *Sink) handle(dg []byte) {
	now := time.Now()
	body, segs, derr := Decode(dg)
	s.mu.Lock()
	s.datagrams++
	if derr != nil {
		s.errs = append(s.errs, derr)
	}
	if body != nil {
		s.bodies = append(s.bodies, body)
	}
	for i := range segs {
		segs[i].Received = now
	}
	s.segs = append(s.segs, segs...)
	fn := s.notify
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	if fn != nil {
		for _, sg := range segs {
			fn(sg)
		}
	}
}

// Segments returns a copy of everything decoded so far.
func (s *Sink) Segments() []Segment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Segment(nil), s.segs...)
}

// Bodies returns the raw document of every datagram received (header removed).
func (s *Sink) Bodies() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.bodies...)
}

// Errors returns the decode errors seen so far (bad headers, bad JSON).
func (s *Sink) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Datagrams is the number of datagrams received.
func (s *Sink) Datagrams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.datagrams
}

// WaitFor blocks until cond holds for the segments received so far or the
// timeout passes; it reports whether cond held.
func (s *Sink) WaitFor(timeout time.Duration, cond func([]Segment) bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond(s.segs)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			ok = cond(s.segs)
			s.mu.Unlock()
			return ok
		}
	}
}

// Settle waits until every datagram the socket holds has been decoded (call
// it once the senders have finished), or timeout passes; it reports whether
// it got there.
func (s *Sink) Settle(timeout time.Duration) bool { return s.u.Settle(timeout) }

// Lost is the number of datagrams that reached the socket and were never
// decoded (the receive buffer was full, Linux only).
func (s *Sink) Lost() int64 { return s.u.Lost() }

// Close stops the listener and waits for its goroutines.
func (s *Sink) Close() error { return s.u.Close() }

// ByTrace groups segs by trace id, keeping arrival order.
func ByTrace(segs []Segment) map[string][]Segment {
	m := make(map[string][]Segment)
	for _, s := range segs {
		m[s.TraceID] = append(m[s.TraceID], s)
	}
	return m
}
