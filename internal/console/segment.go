package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// docFlags are a (sub)segment's error, throttle and fault flags.
type docFlags uint8

const (
	fError docFlags = 1 << iota
	fThrottle
	fFault
)

// wireDoc is the part of a segment document the console indexes. The
// document itself is kept verbatim for the trace view.
type wireDoc struct {
	Name       string  `json:"name"`
	ID         string  `json:"id"`
	TraceID    string  `json:"trace_id"`
	ParentID   string  `json:"parent_id"`
	Type       string  `json:"type"`
	Namespace  string  `json:"namespace"`
	Origin     string  `json:"origin"`
	User       string  `json:"user"`
	StartTime  float64 `json:"start_time"`
	EndTime    float64 `json:"end_time"`
	InProgress bool    `json:"in_progress"`
	Error      bool    `json:"error"`
	Throttle   bool    `json:"throttle"`
	Fault      bool    `json:"fault"`
	HTTP       struct {
		Request struct {
			Method    string `json:"method"`
			URL       string `json:"url"`
			UserAgent string `json:"user_agent"`
			Traced    bool   `json:"traced"`
		} `json:"request"`
		Response struct {
			Status int `json:"status"`
		} `json:"response"`
	} `json:"http"`
	AWS struct {
		Operation string `json:"operation"`
		TableName string `json:"table_name"`
		QueueURL  string `json:"queue_url"`
	} `json:"aws"`
	Annotations map[string]any `json:"annotations"`
	Subsegments []wireDoc      `json:"subsegments"`
}

// span is one segment or subsegment of a document, flattened for queries.
type span struct {
	name, id, parentID string
	namespace, origin  string
	user               string
	start, end         float64
	flags              docFlags
	seg                bool // a segment (a service), not a subsegment
	method, url        string
	status             int
	awsOp, table       string
	queue              string
	annotations        map[string]any
}

func (s *span) duration() float64 {
	if s.end < s.start {
		return 0
	}
	return s.end - s.start
}

// doc is one received segment document.
type doc struct {
	id    string
	raw   json.RawMessage
	spans []span // spans[0] is the document's own (sub)segment
}

// Limits on what one document may contain.
const (
	maxDocBytes     = 64 << 10
	maxSpansPerDoc  = 1000
	maxSpanNesting  = 32
	maxNameBytes    = 1024
	maxTraceIDBytes = 64
)

var (
	errEmpty      = errors.New("empty document")
	errNoName     = errors.New("segment without name")
	errNoID       = errors.New("segment without id")
	errNoTraceID  = errors.New("segment without a valid trace_id")
	errNoStart    = errors.New("segment without start_time")
	errTooLarge   = errors.New("document larger than 64 KiB")
	errTooMany    = errors.New("too many subsegments")
	errTooDeep    = errors.New("subsegments nested too deeply")
	errBadHeader  = errors.New(`datagram header is not {"format":"json","version":1}`)
	errNoNewline  = errors.New("datagram without a header line")
	errTooLongStr = errors.New("name or id too long")
)

// parseDatagram splits a daemon datagram into its header and document, and
// checks the header as the daemon does: format json (any case), version 1.
func parseDatagram(b []byte) ([]byte, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, errNoNewline
	}
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b[:i], &h); err != nil || !strings.EqualFold(h.Format, "json") || h.Version != 1 {
		return nil, errBadHeader
	}
	body := bytes.TrimSpace(b[i+1:])
	if len(body) == 0 {
		return nil, errEmpty
	}
	return body, nil
}

// parseDoc parses one segment document (a segment, or a subsegment sent on
// its own) into its trace id and flattened spans. raw is copied.
func parseDoc(raw []byte) (traceID string, d *doc, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", nil, errEmpty
	}
	if len(raw) > maxDocBytes {
		return "", nil, errTooLarge
	}
	var w wireDoc
	if err := json.Unmarshal(raw, &w); err != nil {
		return "", nil, err
	}
	if w.Name == "" {
		return "", nil, errNoName
	}
	if w.ID == "" {
		return "", nil, errNoID
	}
	if w.TraceID == "" || len(w.TraceID) > maxTraceIDBytes {
		return "", nil, errNoTraceID
	}
	if !(w.StartTime > 0) {
		return "", nil, errNoStart
	}
	d = &doc{id: w.ID, raw: append(json.RawMessage(nil), raw...)}
	if err := flatten(&w, w.ParentID, w.Type != "subsegment", 0, &d.spans); err != nil {
		return "", nil, err
	}
	return w.TraceID, d, nil
}

func flatten(w *wireDoc, parent string, seg bool, depth int, out *[]span) error {
	if depth > maxSpanNesting {
		return errTooDeep
	}
	if len(*out) >= maxSpansPerDoc {
		return errTooMany
	}
	if len(w.Name) > maxNameBytes || len(w.ID) > maxNameBytes || len(parent) > maxNameBytes {
		return errTooLongStr
	}
	s := span{
		name: w.Name, id: w.ID, parentID: parent,
		namespace: w.Namespace, origin: w.Origin, user: w.User,
		start: w.StartTime, end: w.EndTime, seg: seg,
		method: w.HTTP.Request.Method, url: w.HTTP.Request.URL, status: w.HTTP.Response.Status,
		awsOp: w.AWS.Operation, table: w.AWS.TableName, queue: w.AWS.QueueURL,
		annotations: w.Annotations,
	}
	if w.InProgress || s.end < s.start {
		s.end = s.start
	}
	if w.Error {
		s.flags |= fError
	}
	if w.Throttle {
		s.flags |= fThrottle
	}
	if w.Fault {
		s.flags |= fFault
	}
	*out = append(*out, s)
	for i := range w.Subsegments {
		c := &w.Subsegments[i]
		if c.ID == "" || c.Name == "" {
			continue // X-Ray rejects such subsegments; the rest of the document stays
		}
		if err := flatten(c, w.ID, false, depth+1, out); err != nil {
			return err
		}
	}
	return nil
}
