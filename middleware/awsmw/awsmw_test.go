package awsmw_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-xray-sdk-go/instrumentation/awsv2"
	"github.com/aws/aws-xray-sdk-go/resources"
	"github.com/aws/aws-xray-sdk-go/strategy/sampling"
	"github.com/aws/aws-xray-sdk-go/xray"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/awsfake"
	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/o11y-go/o11y/middleware/awsmw"
	"github.com/o11y-go/o11y/middleware/awsmw/internal/awscalls"
	"github.com/o11y-go/o11y/tracing/xraysegment"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

const queueURL = awscalls.QueueURL

func testConfig(endpoint string) aws.Config { return awscalls.Config(endpoint) }

func getItem(table string) func(context.Context, aws.Config) error { return awscalls.GetItem(table) }

// ours runs c through the SDK's own tracing as awsmw.Instrument installs
// it, under a SERVER span, and returns the AWS call's span translated into
// an X-Ray document.
func ours(t *testing.T, f *awsfake.Server, c awscalls.Call) (doc []byte, span sdktrace.ReadOnlySpan) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	cfg := testConfig(f.URL)
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp))
	awsmw.Instrument(&cfg, awsmw.WithTracerProvider(tp)) // idempotent
	ctx, parent := tp.Tracer("test").Start(context.Background(), "GET /checkout", trace.WithSpanKind(trace.SpanKindServer))
	err := c.Run(ctx, cfg)
	parent.End()
	if c.Failed() {
		require.Error(t, err)
	} else {
		require.NoError(t, err)
	}
	ended := rec.Ended()
	require.Len(t, ended, 2, "the caller's span and one span per call, retries included: no SDK phase spans")
	span = ended[0]
	require.Equal(t, trace.SpanKindClient, span.SpanKind())
	require.Equal(t, parent.SpanContext().SpanID(), span.Parent().SpanID())
	assert.Equal(t, strings.ReplaceAll(c.Service, "SecretsManager", "Secrets Manager")+"."+c.Operation, span.Name(), "the SDK's operation span")
	assert.True(t, strings.HasPrefix(span.InstrumentationScope().Name, "github.com/aws/aws-sdk-go-v2/service/"), "scope %q", span.InstrumentationScope().Name)
	doc = xraysegment.NewEncoder(xraysegment.Config{}).AppendSegment(nil, span)
	require.NoError(t, xrayvalidate.Validate(doc), "%s", doc)
	return doc, span
}

// peerDaemon is a UDP listener on loopback standing in for the X-Ray
// daemon (kernel-default receive buffer; the test goroutine is its one
// reader). aws-xray-sdk-go emits synchronously when a segment closes.
type peerDaemon struct{ conn net.PacketConn }

func (d *peerDaemon) next(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	require.NoError(t, d.conn.SetReadDeadline(time.Now().Add(30*time.Second)))
	n, _, err := d.conn.ReadFrom(buf)
	require.NoError(t, err)
	_, doc, ok := bytes.Cut(buf[:n], []byte("\n"))
	require.True(t, ok, "daemon header")
	return doc
}

type alwaysSample struct{}

func (alwaysSample) ShouldTrace(*sampling.Request) *sampling.Decision {
	return &sampling.Decision{Sample: true}
}

var (
	peerOnce sync.Once
	peerD    *peerDaemon
)

// peer runs c through aws-xray-sdk-go's own AWS SDK v2 instrumentation
// under a segment and returns the call's subsegment.
func peer(t *testing.T, f *awsfake.Server, c awscalls.Call) map[string]any {
	t.Helper()
	peerOnce.Do(func() {
		conn, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		peerD = &peerDaemon{conn: conn}
		require.NoError(t, xray.Configure(xray.Config{DaemonAddr: conn.LocalAddr().String(), SamplingStrategy: alwaysSample{}}))
	})
	cfg := testConfig(f.URL)
	awsv2.AWSV2Instrumentor(&cfg.APIOptions)
	name := "peer-" + c.Name
	ctx, seg := xray.BeginSegment(context.Background(), name)
	_ = c.Run(ctx, cfg)
	seg.Close(nil)
	// Read up to this call's segment: aws-xray-sdk-go may send a segment
	// again (and list a subsegment twice) under the race detector's
	// scheduling; documents are matched by name and subsegments by id.
	for {
		var root struct {
			Name        string           `json:"name"`
			Subsegments []map[string]any `json:"subsegments"`
		}
		doc := peerD.next(t)
		require.NoError(t, json.Unmarshal(doc, &root))
		if root.Name != name {
			continue
		}
		require.NotEmpty(t, root.Subsegments, "%s", doc)
		for _, sub := range root.Subsegments[1:] {
			require.Equal(t, root.Subsegments[0]["id"], sub["id"], "one AWS call, one subsegment: %s", doc)
		}
		return root.Subsegments[0]
	}
}

// whitelisted returns the aws fields aws-xray-sdk-go's AWSWhitelist.json
// lets the X-Ray SDK record for service/operation (its AWS SDK v1 handlers
// use it), in X-Ray's snake_case.
func whitelisted(t *testing.T, service, operation string) map[string]bool {
	t.Helper()
	raw, err := resources.Asset("resources/AWSWhitelist.json")
	require.NoError(t, err)
	type descriptor struct {
		RenameTo string `json:"rename_to"`
	}
	var wl struct {
		Services map[string]struct {
			Operations map[string]struct {
				RequestParameters   []string              `json:"request_parameters"`
				RequestDescriptors  map[string]descriptor `json:"request_descriptors"`
				ResponseParameters  []string              `json:"response_parameters"`
				ResponseDescriptors map[string]descriptor `json:"response_descriptors"`
			} `json:"operations"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(raw, &wl))
	op, ok := wl.Services[strings.ToLower(service)].Operations[operation]
	require.True(t, ok, "%s %s in AWSWhitelist.json", service, operation)
	fields := map[string]bool{}
	for _, p := range append(op.RequestParameters, op.ResponseParameters...) {
		fields[snake(p)] = true
	}
	for p, d := range op.RequestDescriptors {
		fields[d.RenameTo] = true
		fields[snake(p)] = d.RenameTo == ""
	}
	for _, d := range op.ResponseDescriptors {
		fields[d.RenameTo] = true
	}
	return fields
}

// snake is X-Ray's field-name form of an API parameter: TableName →
// table_name, QueueUrl → queue_url.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TestAWSCalls makes real aws-sdk-go-v2 calls against a loopback endpoint
// speaking each service's protocol, traces them with the SDK's own tracing
// as Instrument installs it, translates the spans with xraysegment, and
// checks the documents against goldens, against what X-Ray needs for an
// AWS node, and against aws-xray-sdk-go's own instrumentation of the same
// calls. (otelawstest, a nested module, checks that otelaws spans of the
// same calls give the same documents.)
func TestAWSCalls(t *testing.T) {
	f := awsfake.New(t)
	for _, c := range awscalls.Calls() {
		t.Run(c.Name, func(t *testing.T) {
			doc, span := ours(t, f, c)
			header := f.LastHeader()
			m := awscalls.Normalise(t, doc)
			awscalls.Golden(t, *update, c.Name, m)

			// What makes an AWS node on the service map.
			assert.Equal(t, c.Service, m["name"])
			assert.Equal(t, "aws", m["namespace"])
			assert.Equal(t, "subsegment", m["type"])
			awsBlock, _ := m["aws"].(map[string]any)
			require.NotNil(t, awsBlock, "aws block")
			assert.Equal(t, c.Operation, awsBlock["operation"])
			assert.Equal(t, "eu-west-1", awsBlock["region"])
			assert.NotEmpty(t, awsBlock["request_id"])
			for k, v := range c.Resource {
				assert.Equal(t, v, awsBlock[k], "aws.%s", k)
			}
			if c.Retries > 0 {
				assert.Equal(t, float64(c.Retries), awsBlock["retries"])
			} else {
				assert.Contains(t, []any{nil, 0.0}, awsBlock["retries"])
			}
			assert.Equal(t, float64(c.Status), get(m, "http", "response", "status"))
			assert.Nil(t, get(m, "http", "request"), "no traced flag (nor URL) on AWS calls")
			assert.Equal(t, c.Fault, m["fault"], "fault")
			assert.Equal(t, c.Error, m["error"], "error")
			assert.Equal(t, c.Throttle, m["throttle"], "throttle")
			if c.Failed() {
				assert.NotEmpty(t, get(m, "cause", "exceptions"), "cause")
			}
			// The X-Ray header went out (and only it: AWS reads no other),
			// naming the call's span (the subsegment) as parent.
			assert.Equal(t, "Root="+xrayTraceID(span.SpanContext().TraceID())+";Parent="+span.SpanContext().SpanID().String()+";Sampled=1",
				header.Get("X-Amzn-Trace-Id"))
			assert.Empty(t, header.Get("traceparent"))

			// Peer: aws-xray-sdk-go's AWS SDK v2 instrumentation.
			p := peer(t, f, c)
			// The peer names the node after the service id as is
			// ("Secrets Manager"); we drop the spaces ("SecretsManager").
			assert.Equal(t, strings.ReplaceAll(p["name"].(string), " ", ""), m["name"], "name")
			assert.Equal(t, p["namespace"], m["namespace"], "namespace")
			for _, k := range []string{"operation", "region", "request_id"} {
				assert.Equal(t, get(p, "aws", k), awsBlock[k], "aws.%s", k)
			}
			assert.Equal(t, get(p, "http", "response", "status"), get(m, "http", "response", "status"))
			if !c.Failed() {
				for _, k := range []string{"fault", "error", "throttle"} {
					assert.Equal(t, p[k] == true, m[k] == true, k)
				}
			}
			// The peer's v2 instrumentation records no resource fields;
			// the X-Ray SDK's whitelist (used by its SDK v1 handlers) names
			// them. Ours must be among those names.
			if len(c.Resource) == 0 || c.Service == "Kinesis" {
				return // not in the whitelist
			}
			wl := whitelisted(t, c.Service, c.Operation)
			for k := range c.Resource {
				assert.True(t, wl[k], "aws.%s is not an X-Ray SDK field for %s %s (have %v)", k, c.Service, c.Operation, wl)
			}
		})
	}
}

var get = awscalls.Get
