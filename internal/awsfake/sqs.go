package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// SQS, as a worker and its producer see it (AWS JSON 1.0, X-Amz-Target
// AmazonSQS.<Operation>): SendMessage, SendMessageBatch, ReceiveMessage,
// DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility, GetQueueUrl,
// GetQueueAttributes (approximate counts).
//
// What the fake keeps of real SQS:
//   - the trace header: SendMessage and SendMessageBatch copy the request's
//     X-Amzn-Trace-Id header into every message's AWSTraceHeader system
//     attribute; a message's own AWSTraceHeader system attribute wins;
//   - ReceiveMessage returns system attributes (AWSTraceHeader,
//     ApproximateReceiveCount, SentTimestamp) and message attributes only
//     when asked for them (by name, "All", or a "prefix.*" pattern), with
//     the MD5 digests the SDK checks;
//   - visibility: a received message is hidden for the call's
//     VisibilityTimeout (else the queue's, DefaultVisibility) and comes
//     back with a new receipt handle and a higher ApproximateReceiveCount
//     unless deleted; ChangeMessageVisibility moves that moment (0: now);
//     a stale receipt handle is refused (ReceiptHandleIsInvalid);
//   - long polling: WaitTimeSeconds (0–20) waits for a message, capped by
//     MaxWait, and ends early when the client goes away or the fake closes;
//   - queues are created on first use from any queue URL (the last path
//     element is the name); a queue named "missing…" does not exist
//     (QueueDoesNotExist, 400).
//
// Not modelled: FIFO queues, delays, redrive to a dead-letter queue,
// retention, size limits.

// DefaultVisibility is the visibility timeout of the fake's queues, SQS's
// default.
const DefaultVisibility = 30 * time.Second

type sqsQueue struct {
	url     string
	msgs    []*sqsMessage
	changed chan struct{} // closed and replaced when a message may have become receivable
}

type sqsMessage struct {
	id            string
	body          string
	attrs         map[string]any // MessageAttributes as sent (JSON form)
	traceHeader   string
	sent          time.Time
	visibleAt     time.Time
	receiveCount  int
	receiptHandle string // of the latest receive; "" before the first
	deleted       bool
}

// SQSMessage is a message in one of the fake's queues, for tests.
type SQSMessage struct {
	ID, Body, TraceHeader string
	ReceiveCount          int
	Deleted               bool
}

// Messages returns the messages of the queue at url (deleted ones
// included, marked), in the order they were sent.
func (f *Server) Messages(url string) []SQSMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[queueName(url)]
	if q == nil {
		return nil
	}
	out := make([]SQSMessage, 0, len(q.msgs))
	for _, m := range q.msgs {
		out = append(out, SQSMessage{ID: m.id, Body: m.body, TraceHeader: m.traceHeader, ReceiveCount: m.receiveCount, Deleted: m.deleted})
	}
	return out
}

// QueueURL returns the URL of the queue name on this endpoint, in the form
// SQS uses (account id, then name).
func (f *Server) QueueURL(name string) string {
	return f.URL + "/111122223333/" + name
}

func queueName(url string) string {
	return url[strings.LastIndexByte(url, '/')+1:]
}

func (f *Server) now() time.Time {
	if f.Clock != nil {
		return f.Clock()
	}
	return time.Now()
}

const sqsNS = "com.amazonaws.sqs#"

// sqsError writes an SQS error the way the JSON protocol does, with the
// legacy query-protocol code in x-amzn-query-error.
func sqsError(w http.ResponseWriter, reqID, code, legacy, msg string) {
	w.Header().Set("x-amzn-query-error", legacy+";Sender")
	jsonError(w, 400, reqID, sqsNS+code, msg)
}

// queueLocked returns the queue named by in["QueueUrl"] (created on first use),
// or writes the error and returns nil. Called with f.mu held.
func (f *Server) queueLocked(w http.ResponseWriter, reqID string, in map[string]any) *sqsQueue {
	url, _ := in["QueueUrl"].(string)
	name := queueName(url)
	if name == "" || strings.HasPrefix(name, "missing") {
		sqsError(w, reqID, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
		return nil
	}
	if f.queues == nil {
		f.queues = map[string]*sqsQueue{}
	}
	q := f.queues[name]
	if q == nil {
		q = &sqsQueue{url: url, changed: make(chan struct{})}
		f.queues[name] = q
	}
	return q
}

func (q *sqsQueue) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// serveSQS answers one SQS call; it returns the response document, or nil
// when it wrote an error.
func (f *Server) serveSQS(ctx context.Context, w http.ResponseWriter, op string, in map[string]any, traceHeader string) any {
	reqID := "req-" + op
	switch op {
	case "GetQueueUrl":
		name, _ := in["QueueName"].(string)
		if name == "" || strings.HasPrefix(name, "missing") {
			sqsError(w, reqID, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
			return nil
		}
		return map[string]any{"QueueUrl": f.QueueURL(name)}
	case "ReceiveMessage":
		return f.receive(ctx, w, in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queueLocked(w, reqID, in)
	if q == nil {
		return nil
	}
	now := f.now()
	switch op {
	case "SendMessage":
		m := f.enqueueLocked(q, in, traceHeader, now)
		q.notify()
		return sendResult(m)
	case "SendMessageBatch":
		entries, _ := in["Entries"].([]any)
		ok := []any{}
		for _, e := range entries {
			entry, _ := e.(map[string]any)
			m := f.enqueueLocked(q, entry, traceHeader, now)
			res := sendResult(m)
			res["Id"] = entry["Id"]
			ok = append(ok, res)
		}
		q.notify()
		return map[string]any{"Successful": ok, "Failed": []any{}}
	case "DeleteMessage":
		m := q.byHandle(in["ReceiptHandle"])
		if m == nil {
			sqsError(w, reqID, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return nil
		}
		m.deleted = true
		return map[string]any{}
	case "DeleteMessageBatch":
		entries, _ := in["Entries"].([]any)
		ok, failed := []any{}, []any{}
		for _, e := range entries {
			entry, _ := e.(map[string]any)
			if m := q.byHandle(entry["ReceiptHandle"]); m != nil {
				m.deleted = true
				ok = append(ok, map[string]any{"Id": entry["Id"]})
			} else {
				failed = append(failed, map[string]any{"Id": entry["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": true, "Message": "The input receipt handle is invalid."})
			}
		}
		return map[string]any{"Successful": ok, "Failed": failed}
	case "ChangeMessageVisibility":
		m := q.byHandle(in["ReceiptHandle"])
		if m == nil {
			sqsError(w, reqID, "ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle is invalid.")
			return nil
		}
		secs, _ := in["VisibilityTimeout"].(float64)
		if secs < 0 || secs > 43200 {
			sqsError(w, reqID, "InvalidParameterValue", "InvalidParameterValue", "VisibilityTimeout must be 0 to 43200 seconds.")
			return nil
		}
		m.visibleAt = now.Add(time.Duration(secs) * time.Second)
		q.notify()
		return map[string]any{}
	case "GetQueueAttributes":
		visible, hidden := 0, 0
		for _, m := range q.msgs {
			switch {
			case m.deleted:
			case m.visibleAt.After(now):
				hidden++
			default:
				visible++
			}
		}
		return map[string]any{"Attributes": map[string]any{
			"ApproximateNumberOfMessages":           fmt.Sprint(visible),
			"ApproximateNumberOfMessagesNotVisible": fmt.Sprint(hidden),
			"VisibilityTimeout":                     fmt.Sprint(int(DefaultVisibility / time.Second)),
		}}
	}
	return nil // unknown operation: the caller answers UnknownOperationException
}

func (q *sqsQueue) byHandle(h any) *sqsMessage {
	s, _ := h.(string)
	if s == "" {
		return nil
	}
	for _, m := range q.msgs {
		if m.receiptHandle == s && !m.deleted {
			return m
		}
	}
	return nil
}

func (f *Server) enqueueLocked(q *sqsQueue, in map[string]any, traceHeader string, now time.Time) *sqsMessage {
	f.msgSeq++
	m := &sqsMessage{id: fmt.Sprintf("msg-%d", f.msgSeq), traceHeader: traceHeader, sent: now, visibleAt: now}
	m.body, _ = in["MessageBody"].(string)
	m.attrs, _ = in["MessageAttributes"].(map[string]any)
	if sa, ok := in["MessageSystemAttributes"].(map[string]any); ok {
		if th, ok := sa["AWSTraceHeader"].(map[string]any); ok {
			if v, _ := th["StringValue"].(string); v != "" {
				m.traceHeader = v // the explicit attribute wins over the header
			}
		}
	}
	q.msgs = append(q.msgs, m)
	return m
}

func sendResult(m *sqsMessage) map[string]any {
	res := map[string]any{"MessageId": m.id, "MD5OfMessageBody": md5hex(m.body)}
	if len(m.attrs) > 0 {
		res["MD5OfMessageAttributes"] = md5OfAttributes(m.attrs)
	}
	return res
}

// receive answers ReceiveMessage, waiting up to WaitTimeSeconds (capped by
// MaxWait) for a receivable message.
func (f *Server) receive(ctx context.Context, w http.ResponseWriter, in map[string]any) any {
	max := 1
	if n, ok := in["MaxNumberOfMessages"].(float64); ok {
		if n < 1 || n > 10 {
			sqsError(w, "req-ReceiveMessage", "InvalidParameterValue", "InvalidParameterValue", "MaxNumberOfMessages must be 1 to 10.")
			return nil
		}
		max = int(n)
	}
	wait := time.Duration(0)
	if n, ok := in["WaitTimeSeconds"].(float64); ok {
		if n < 0 || n > 20 {
			sqsError(w, "req-ReceiveMessage", "InvalidParameterValue", "InvalidParameterValue", "WaitTimeSeconds must be 0 to 20.")
			return nil
		}
		wait = time.Duration(n) * time.Second
	}
	if f.MaxWait > 0 && wait > f.MaxWait {
		wait = f.MaxWait
	}
	visibility := DefaultVisibility
	if n, ok := in["VisibilityTimeout"].(float64); ok {
		visibility = time.Duration(n) * time.Second
	}
	sysNames := names(in["MessageSystemAttributeNames"], in["AttributeNames"])
	attrNames := names(in["MessageAttributeNames"], nil)

	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		f.mu.Lock()
		q := f.queueLocked(w, "req-ReceiveMessage", in)
		if q == nil {
			f.mu.Unlock()
			return nil
		}
		now := f.now()
		var msgs []any
		next := time.Duration(-1) // until the next hidden message reappears
		for _, m := range q.msgs {
			if m.deleted {
				continue
			}
			if d := m.visibleAt.Sub(now); d > 0 {
				if next < 0 || d < next {
					next = d
				}
				continue
			}
			if len(msgs) == max {
				break
			}
			f.seq++
			m.receiveCount++
			m.receiptHandle = fmt.Sprintf("rh-%s-%d", m.id, f.seq)
			m.visibleAt = now.Add(visibility)
			msgs = append(msgs, m.received(sysNames, attrNames))
		}
		changed := q.changed
		f.mu.Unlock()
		if len(msgs) > 0 || timeout == nil {
			return map[string]any{"Messages": nonNil(msgs)}
		}
		var reappear <-chan time.Time
		var rt *time.Timer
		if next >= 0 && f.Clock == nil {
			rt = time.NewTimer(next)
			reappear = rt.C
		}
		ended := false
		select {
		case <-changed:
		case <-reappear:
		case <-timeout:
			ended = true
		case <-ctx.Done():
			ended = true
		case <-f.done:
			ended = true
		}
		if rt != nil {
			rt.Stop()
		}
		if ended {
			return map[string]any{"Messages": []any{}}
		}
	}
}

func nonNil(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

// received is m as ReceiveMessage returns it.
func (m *sqsMessage) received(sysNames, attrNames []string) map[string]any {
	out := map[string]any{
		"MessageId":     m.id,
		"ReceiptHandle": m.receiptHandle,
		"Body":          m.body,
		"MD5OfBody":     md5hex(m.body),
	}
	sys := map[string]any{}
	for _, n := range sysNames {
		all := n == "All"
		if (all || n == "AWSTraceHeader") && m.traceHeader != "" {
			sys["AWSTraceHeader"] = m.traceHeader
		}
		if all || n == "ApproximateReceiveCount" {
			sys["ApproximateReceiveCount"] = fmt.Sprint(m.receiveCount)
		}
		if all || n == "SentTimestamp" {
			sys["SentTimestamp"] = fmt.Sprint(m.sent.UnixMilli())
		}
	}
	if len(sys) > 0 {
		out["Attributes"] = sys
	}
	attrs := map[string]any{}
	for name, v := range m.attrs {
		for _, want := range attrNames {
			if want == "All" || want == ".*" || want == name ||
				strings.HasSuffix(want, ".*") && strings.HasPrefix(name, strings.TrimSuffix(want, ".*")) {
				attrs[name] = v
				break
			}
		}
	}
	if len(attrs) > 0 {
		out["MessageAttributes"] = attrs
		out["MD5OfMessageAttributes"] = md5OfAttributes(attrs)
	}
	return out
}

// names joins the string lists a and b (JSON arrays).
func names(a, b any) []string {
	var out []string
	for _, v := range []any{a, b} {
		list, _ := v.([]any)
		for _, s := range list {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// decodeJSON is json.Unmarshal into a map, nil on bad input.
func decodeJSON(body []byte) map[string]any {
	var in map[string]any
	if json.Unmarshal(body, &in) != nil || in == nil {
		return map[string]any{}
	}
	return in
}
