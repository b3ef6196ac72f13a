// Package awsfake is a loopback stand-in for the AWS services the AWS-call
// tests use, speaking each service's wire protocol to real aws-sdk-go-v2
// clients. Standard library only: test modules share it without linking
// the AWS SDK into the main module.
package awsfake

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is one loopback endpoint speaking the wire protocols of the
// services the tests call: AWS JSON 1.0/1.1 with X-Amz-Target (DynamoDB,
// SQS, Secrets Manager, Kinesis),
// REST/XML (S3, path-style), REST-JSON (Lambda Invoke) and the query protocol with XML answers (SNS).
// Every answer carries a request id derived from the operation, so
// documents stay deterministic. Table "hot" always throttles
// (ProvisionedThroughputExceededException, 400), table "broken" always
// fails (InternalServerError, 500), table "missing" is not found (400).
type Server struct {
	*httptest.Server

	// Clock, when set before the first call, is SQS's clock (visibility
	// timeouts); a test moves it to make hidden messages reappear.
	Clock func() time.Time
	// MaxWait, when set, caps SQS long polls (WaitTimeSeconds).
	MaxWait time.Duration

	mu        sync.Mutex
	headers   []http.Header // request headers, in arrival order
	queues    map[string]*sqsQueue
	msgSeq    int // SQS message ids
	seq       int // SQS receipt handles
	done      chan struct{}
	closeOnce sync.Once
}

// New starts a Server, closed when the test ends.
func New(t testing.TB) *Server {
	f := Start()
	t.Cleanup(f.Close)
	return f
}

// Start starts a Server on a loopback port (the local demo's fake SQS);
// Close stops it.
func Start() *Server {
	f := &Server{done: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close ends SQS long polls in progress, then closes the listener and
// waits for the requests in flight.
func (f *Server) Close() {
	f.closeOnce.Do(func() { close(f.done) })
	f.Server.Close()
}

// LastHeader returns the headers of the last request received.
func (f *Server) LastHeader() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.headers) == 0 {
		return nil
	}
	return f.headers[len(f.headers)-1]
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if prefix, op, _ := strings.Cut(target, "."); prefix == "AmazonSQS" {
			f.serveSQSJSON(w, r, op, body)
			return
		}
		f.serveJSON(w, target, body)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/" {
		f.serveQuery(w, r, body)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") { // Lambda Invoke (REST-JSON)
		w.Header().Set("x-amzn-RequestId", "req-Invoke")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
		return
	}
	f.serveS3(w, r, body)
}

func jsonError(w http.ResponseWriter, status int, reqID, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, code, msg)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (f *Server) serveSQSJSON(w http.ResponseWriter, r *http.Request, op string, body []byte) {
	out := f.serveSQS(r.Context(), w, op, decodeJSON(body), r.Header.Get("X-Amzn-Trace-Id"))
	if out == nil {
		if w.Header().Get("x-amzn-RequestId") == "" { // no error written yet
			jsonError(w, 400, "req-"+op, "UnknownOperationException", "AmazonSQS."+op)
		}
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", "req-"+op)
	_ = json.NewEncoder(w).Encode(out)
}

func (f *Server) serveJSON(w http.ResponseWriter, target string, body []byte) {
	prefix, op, _ := strings.Cut(target, ".")
	reqID := "req-" + op
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	var out any
	switch prefix {
	case "DynamoDB_20120810":
		const ns = "com.amazonaws.dynamodb.v20120810#"
		switch in["TableName"] {
		case "hot":
			jsonError(w, 400, reqID, ns+"ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded.")
			return
		case "broken":
			jsonError(w, 500, reqID, ns+"InternalServerError", "Internal server error")
			return
		case "missing":
			jsonError(w, 400, reqID, ns+"ResourceNotFoundException", "Requested resource not found")
			return
		}
		switch op {
		case "GetItem":
			out = map[string]any{"Item": map[string]any{"id": map[string]any{"S": "42"}}}
		case "PutItem":
			out = map[string]any{}
		case "Query":
			out = map[string]any{"Count": 1, "ScannedCount": 1, "Items": []any{map[string]any{"id": map[string]any{"S": "42"}}}}
		}
	case "secretsmanager":
		if op == "GetSecretValue" {
			id, _ := in["SecretId"].(string)
			out = map[string]any{"ARN": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:" + id + "-AbCdEf", "Name": id, "SecretString": "s3cr3t", "VersionId": "v1"}
		}
	case "Kinesis_20131202":
		if op == "PutRecord" {
			out = map[string]any{"SequenceNumber": "49590338271490256608559692538361571095921575989136588898", "ShardId": "shardId-000000000000"}
		}
	}
	if out == nil {
		jsonError(w, 400, reqID, "UnknownOperationException", target)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-RequestId", reqID)
	_ = json.NewEncoder(w).Encode(out)
}

// md5OfAttributes is SQS's digest of message attributes: for each name in
// order, the length-prefixed name, data type, a transport byte (1 string or
// number, 2 binary) and the length-prefixed value.
func md5OfAttributes(attrs map[string]any) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(b)))
		h.Write(l[:])
		h.Write(b)
	}
	for _, n := range names {
		a, _ := attrs[n].(map[string]any)
		typ, _ := a["DataType"].(string)
		put([]byte(n))
		put([]byte(typ))
		if bv, ok := a["BinaryValue"].(string); ok {
			raw, _ := base64.StdEncoding.DecodeString(bv)
			h.Write([]byte{2})
			put(raw)
			continue
		}
		sv, _ := a["StringValue"].(string)
		h.Write([]byte{1})
		put([]byte(sv))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *Server) serveQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	action := r.PostForm.Get("Action")
	w.Header().Set("Content-Type", "text/xml")
	if action != "Publish" {
		w.WriteHeader(400)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>%s</Message></Error><RequestId>req-%s</RequestId></ErrorResponse>`, action, action)
		return
	}
	w.Header().Set("x-amzn-RequestId", "req-Publish")
	fmt.Fprint(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">`+
		`<PublishResult><MessageId>sns-msg-1</MessageId></PublishResult>`+
		`<ResponseMetadata><RequestId>req-Publish</RequestId></ResponseMetadata></PublishResponse>`)
}

func (f *Server) serveS3(w http.ResponseWriter, r *http.Request, _ []byte) {
	w.Header().Set("x-amz-request-id", "req-S3"+r.Method)
	w.Header().Set("x-amz-id-2", "ext-id")
	switch r.Method {
	case http.MethodPut:
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		w.WriteHeader(200)
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "5")
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		_, _ = io.WriteString(w, "hello")
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(405)
		fmt.Fprint(w, `<Error><Code>MethodNotAllowed</Code><Message>no</Message></Error>`)
	}
}
