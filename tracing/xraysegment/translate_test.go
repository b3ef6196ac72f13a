package xraysegment

import (
	"github.com/o11y-go/o11y/internal/xraywire"
	"strconv"
	"strings"
	"testing"

	"github.com/o11y-go/o11y/internal/xrayvalidate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestGRPCStatusMapping(t *testing.T) {
	type fl struct{ fault, err, throttle bool }
	want := map[int]fl{
		0: {}, 1: {err: true}, 2: {fault: true}, 3: {err: true}, 4: {fault: true}, 5: {err: true},
		6: {err: true}, 7: {err: true}, 8: {err: true, throttle: true}, 9: {err: true}, 10: {err: true},
		11: {err: true}, 12: {fault: true}, 13: {fault: true}, 14: {fault: true}, 15: {fault: true}, 16: {err: true},
	}
	for code, w := range want {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			s := stub(trace.SpanKindServer, trace.SpanContext{}, attribute.String("rpc.system", "grpc"), attribute.Int("rpc.grpc.status_code", code))
			s.Status = sdktrace.Status{Code: codes.Error} // the gRPC code wins over the span status
			_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
			assert.Equal(t, w, fl{seg.Fault, seg.Error, seg.Throttle})
		})
	}
}

func TestHTTPStatusFlags(t *testing.T) {
	tests := []struct {
		status                 int
		spanErr                bool
		fault, errFlag, thrott bool
	}{
		{200, false, false, false, false},
		{200, true, true, false, false}, // no 4xx/5xx: span status decides
		{404, true, false, true, false}, // 4xx wins over span status
		{429, false, false, true, true},
		{499, false, false, true, false},
		{500, false, true, false, false},
		{599, false, true, false, false},
		{600, true, true, false, false},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			s := stub(trace.SpanKindServer, trace.SpanContext{}, attribute.Int("http.response.status_code", tc.status))
			if tc.spanErr {
				s.Status = sdktrace.Status{Code: codes.Error}
			}
			_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
			assert.Equal(t, []bool{tc.fault, tc.errFlag, tc.thrott}, []bool{seg.Fault, seg.Error, seg.Throttle})
		})
	}
	// Status given as a string (some instrumentations) still counts.
	s := stub(trace.SpanKindServer, trace.SpanContext{}, attribute.String("http.status_code", "503"))
	_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.True(t, seg.Fault)
}

func TestOrigin(t *testing.T) {
	tests := []struct{ provider, platform, launch, want string }{
		{"aws", "aws_app_runner", "", "AWS::AppRunner::Service"},
		{"aws", "aws_eks", "", "AWS::EKS::Container"},
		{"aws", "aws_elastic_beanstalk", "", "AWS::ElasticBeanstalk::Environment"},
		{"aws", "aws_ec2", "", "AWS::EC2::Instance"},
		{"aws", "aws_ecs", "ec2", "AWS::ECS::EC2"},
		{"aws", "aws_ecs", "FARGATE", "AWS::ECS::Fargate"},
		{"aws", "aws_ecs", "", "AWS::ECS::Container"},
		{"", "aws_ecs", "external", "AWS::ECS::Container"},
		{"aws", "aws_lambda", "", ""},
		{"gcp", "aws_ec2", "", ""},
		{"", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.platform+"/"+tc.launch, func(t *testing.T) {
			var kv []attribute.KeyValue
			for k, v := range map[string]string{"cloud.provider": tc.provider, "cloud.platform": tc.platform, "aws.ecs.launchtype": tc.launch} {
				if v != "" {
					kv = append(kv, attribute.String(k, v))
				}
			}
			s := stub(trace.SpanKindServer, trace.SpanContext{})
			s.Resource = res(kv...)
			m, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
			assert.Equal(t, tc.want, seg.Origin)
			if tc.provider == "gcp" {
				assert.Nil(t, get(m, "aws.ec2"), "no aws resource block off AWS")
			}
			// Subsegments never carry origin.
			sub := stub(trace.SpanKindInternal, localParent())
			sub.Resource = s.Resource
			m, _ = checkDoc(t, testEncoder(Config{}).AppendSegment(nil, sub.Snapshot()))
			assert.Nil(t, m["origin"])
		})
	}
}

func bigStack(frames int) string {
	var b strings.Builder
	b.WriteString("goroutine 1 [running]:\n")
	for i := 0; i < frames; i++ {
		b.WriteString("main.f" + strconv.Itoa(i) + "(0x1)\n\t/src/app/f.go:" + strconv.Itoa(i+1) + " +0x10\n")
	}
	return b.String()
}

func exceptionEvent(msg, stack string) sdktrace.Event {
	return sdktrace.Event{Name: "exception", Attributes: []attribute.KeyValue{
		attribute.String("exception.type", "*errors.errorString"),
		attribute.String("exception.message", msg),
		attribute.String("exception.stacktrace", stack),
	}}
}

func TestStackFramesCapped(t *testing.T) {
	s := stub(trace.SpanKindInternal, localParent())
	s.Events = []sdktrace.Event{exceptionEvent("x", bigStack(40))}
	_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	require.Len(t, seg.Cause.Exceptions[0].Stack, 32)
	m, _ := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Equal(t, 8.0, get(m, "cause.exceptions.0.truncated"))

	// Stacks of other languages are not parsed as Go.
	s.Resource = res(attribute.String("telemetry.sdk.language", "java"))
	_, seg = checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Empty(t, seg.Cause.Exceptions[0].Stack)
	// Garbage is not a stack.
	s.Resource = plainResource()
	s.Events = []sdktrace.Event{exceptionEvent("x", "not\n\ta stack\n:\n\tx:y\n")}
	_, seg = checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Empty(t, seg.Cause.Exceptions[0].Stack)
}

func TestExceptionIDsRandomAndDistinct(t *testing.T) {
	s := stub(trace.SpanKindInternal, localParent())
	s.Events = []sdktrace.Event{exceptionEvent("a", ""), exceptionEvent("b", ""), {Name: "other"}}
	m, _ := checkDoc(t, NewEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	exs := get(m, "cause.exceptions").([]any)
	require.Len(t, exs, 2)
	a, b := get(exs[0], "id").(string), get(exs[1], "id").(string)
	assert.True(t, xrayvalidate.IsID(a) && xrayvalidate.IsID(b))
	assert.NotEqual(t, a, b)
}

func TestAnnotationsCappedAt50(t *testing.T) {
	var kv []attribute.KeyValue
	var keys []string
	for i := 0; i < 70; i++ {
		k := "k" + strconv.Itoa(i)
		kv = append(kv, attribute.Int(k, i))
		keys = append(keys, k)
	}
	s := stub(trace.SpanKindServer, trace.SpanContext{}, append(kv, attribute.StringSlice(AnnotationsKey, keys))...)
	_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Len(t, seg.Annotations, 50)
	assert.Contains(t, seg.Metadata["default"], "k60", "the rest goes to metadata")
}

func TestMetadataBounded(t *testing.T) {
	var kv []attribute.KeyValue
	for i := 0; i < 120; i++ {
		kv = append(kv, attribute.String("attr."+strconv.Itoa(i), strings.Repeat("v", 5000)))
	}
	s := stub(trace.SpanKindServer, trace.SpanContext{}, kv...)
	doc := testEncoder(Config{}).AppendSegment(nil, s.Snapshot())
	_, seg := checkDoc(t, doc)
	md := seg.Metadata["default"]
	assert.LessOrEqual(t, len(md), maxMetaEntries+1)
	v := md["attr.0"].(string)
	assert.Equal(t, maxMetaValueBytes+len("…"), len(v), "values are cut with a marker")
}

func TestOversizeIsTrimmedNotLost(t *testing.T) {
	// Megabyte values in metadata, 8 exceptions with 32-frame stacks of long
	// paths and megabyte messages of control characters: still one valid
	// datagram.
	long := strings.Repeat("\x01", 1<<20)
	var kv []attribute.KeyValue
	for i := 0; i < 60; i++ {
		kv = append(kv, attribute.String("m"+strconv.Itoa(i), long))
	}
	longPath := strings.Repeat("d/", 200)
	var st strings.Builder
	for i := 0; i < 40; i++ {
		st.WriteString(strings.Repeat("pkg.", 100) + "f(0x1)\n\t" + longPath + "f.go:1 +0x1\n")
	}
	s := stub(trace.SpanKindServer, trace.SpanContext{}, kv...)
	for i := 0; i < 20; i++ {
		s.Events = append(s.Events, exceptionEvent(long, st.String()))
	}
	enc := testEncoder(Config{})
	dg := appendDatagram(enc, nil, s.Snapshot())
	require.LessOrEqual(t, len(dg), xraywire.MaxDatagramSize)
	require.NoError(t, xrayvalidate.ValidateDatagram(dg))
	assert.Equal(t, uint64(1), enc.Trimmed())
	m, _ := checkDoc(t, dg[len(xraywire.Header):])
	assert.Equal(t, "orders", m["name"])
	assert.Equal(t, "1-5759e988-bd862e3fe1be46a994272793", m["trace_id"])

	// Metadata alone over the limit: the cause survives, metadata goes.
	s.Events = []sdktrace.Event{exceptionEvent("small", bigStack(3))}
	big := make([]attribute.KeyValue, 0, 100)
	for i := 0; i < 100; i++ {
		big = append(big, attribute.String("m"+strconv.Itoa(i), strings.Repeat("\x02", 1000)))
	}
	s.Attributes = big
	m, seg := checkDoc(t, enc.AppendSegment(nil, s.Snapshot()))
	assert.Len(t, seg.Cause.Exceptions[0].Stack, 3)
	_ = m
}

func TestNilAndDegenerateInput(t *testing.T) {
	var e *Encoder
	assert.Empty(t, e.AppendSegment(nil, nil))
	// nil encoder works with the zero Config.
	doc := e.AppendSegment(nil, stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	checkDoc(t, doc)

	// No resource, no name, unended span, NaN metadata.
	s := tracetest.SpanStub{
		SpanContext: spanCtx(testSpanID),
		StartTime:   testStart,
		Attributes:  []attribute.KeyValue{attribute.Float64("nan", nan()), attribute.String("", "empty key")},
	}
	m, seg := checkDoc(t, NewEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Equal(t, "span", seg.Name)
	assert.Equal(t, seg.StartTime, seg.EndTime)
	assert.Nil(t, get(m, "metadata.default.nan"))
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestAppendKeepsPrefix(t *testing.T) {
	prefix := []byte("prefix")
	out := testEncoder(Config{}).AppendSegment(prefix, stub(trace.SpanKindServer, trace.SpanContext{}).Snapshot())
	assert.Equal(t, "prefix", string(out[:6]))
	checkDoc(t, out[6:])
}

func TestLongAndEmptyKeysSkipped(t *testing.T) {
	long := strings.Repeat("k", 300)
	s := stub(trace.SpanKindServer, trace.SpanContext{}, attribute.String(long+"1", "a"), attribute.String(long+"2", "b"), attribute.String("ok", "c"))
	s.Resource = res(attribute.String(long, "x"), attribute.String("service.name", "svc"))
	_, seg := checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Equal(t, map[string]any{"ok": "c", "otel.resource.service.name": "svc"}, seg.Metadata["default"])
}

func TestResourceCacheBounded(t *testing.T) {
	enc := NewEncoder(Config{})
	for i := 0; i < 100; i++ {
		s := stub(trace.SpanKindServer, trace.SpanContext{})
		s.Resource = res(attribute.String("service.name", "svc"+strconv.Itoa(i)))
		_, seg := checkDoc(t, enc.AppendSegment(nil, s.Snapshot()))
		require.Equal(t, "svc"+strconv.Itoa(i), seg.Name, "uncached resources are still translated")
	}
	assert.LessOrEqual(t, int(enc.ncached.Load()), maxCachedResources)
}

func TestEncoderConcurrentUse(t *testing.T) {
	enc := NewEncoder(Config{IndexedAttributes: []string{"http.route"}})
	spans := []sdktrace.ReadOnlySpan{typicalServerSpan(), typicalClientSpan()}
	want := [][]byte{enc.AppendSegment(nil, spans[0]), enc.AppendSegment(nil, spans[1])}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			var buf []byte
			for i := 0; i < 200; i++ {
				buf = enc.AppendSegment(buf[:0], spans[i%2])
				if string(buf) != string(want[i%2]) {
					t.Errorf("concurrent encode differs")
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// Parity with the collector's translator: X-Ray's own limits, not 250 bytes
// everywhere.
func TestLongValuesKeptAsXRayAccepts(t *testing.T) {
	longURL := "https://api.example.com/search?q=" + strings.Repeat("a", 1000)
	longSQL := "SELECT " + strings.Repeat("col, ", 400) + "id FROM orders WHERE id = ?"
	greek := strings.Repeat("α", 300) // 2 bytes per character
	cases := []struct {
		name  string
		attrs []attribute.KeyValue
		cfg   Config
		path  string
		want  string
	}{
		{"url kept whole", []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("url.full", longURL)},
			Config{}, "http.request.url", longURL},
		{"sql kept whole", []attribute.KeyValue{attribute.String("db.system", "postgresql"), attribute.String("db.statement", longSQL)},
			Config{}, "sql.sanitized_query", longSQL},
		{"annotation cut at 250 characters, not bytes", []attribute.KeyValue{attribute.String("note", greek)},
			Config{IndexedAttributes: []string{"note"}}, "annotations.note", strings.Repeat("α", 250)},
		{"short annotation untouched", []attribute.KeyValue{attribute.String("note", "ok")},
			Config{IndexedAttributes: []string{"note"}}, "annotations.note", "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := testEncoder(tc.cfg).AppendSegment(nil, stub(trace.SpanKindClient, localParent(), tc.attrs...).Snapshot())
			m, _ := checkDoc(t, doc)
			assert.Equal(t, tc.want, get(m, tc.path))
		})
	}
}

// A document too big for one datagram cuts long URLs and statements back
// to 250 bytes as the last resort instead of exceeding the limit.
func TestLongURLCutOnlyToFit(t *testing.T) {
	esc := strings.Repeat("\x01", 8<<10) // 6 bytes each once escaped
	s := stub(trace.SpanKindClient, localParent(),
		attribute.String("http.request.method", "GET"),
		attribute.String("url.full", "https://x/"+esc),
		attribute.String("db.system", "postgresql"),
		attribute.String("db.statement", esc+esc),
	)
	enc := testEncoder(Config{})
	dg := appendDatagram(enc, nil, s.Snapshot())
	require.LessOrEqual(t, len(dg), xraywire.MaxDatagramSize)
	m, _ := checkDoc(t, dg[len(xraywire.Header):])
	assert.Len(t, get(m, "http.request.url"), 250)
	assert.Equal(t, uint64(1), enc.Trimmed())
}

func TestMetadataNamespaces(t *testing.T) {
	s := stub(trace.SpanKindServer, trace.SpanContext{},
		attribute.String("aws.xray.metadata.orders", `{"cart": {"items": 3, "total": 42.5},
			"coupon": null}`),
		attribute.String("aws.xray.metadata.default", `{"merged": true}`),
		attribute.Map("aws.xray.metadata.payment", attribute.String("provider", "acme")),
		attribute.String("aws.xray.metadata.bad", `not json`),
		attribute.String("plain", "v"),
	)
	doc := testEncoder(Config{}).AppendSegment(nil, s.Snapshot())
	m, seg := checkDoc(t, doc)
	golden(t, "metadata_namespaces", doc)
	assert.Equal(t, map[string]any{"cart": map[string]any{"items": 3.0, "total": 42.5}, "coupon": nil}, get(m, "metadata.orders"))
	assert.Equal(t, true, get(m, "metadata.default.merged"))
	assert.Equal(t, "v", get(m, "metadata.default.plain"))
	assert.Equal(t, "acme", get(m, "metadata.payment.provider"))
	assert.Nil(t, get(m, "metadata.bad"), "a value that is no JSON object is dropped")
	assert.Nil(t, get(m, "metadata.default.aws.xray.metadata.orders"))
	assert.Contains(t, seg.Metadata, "orders")

	// Only namespaces, no default entries.
	s = stub(trace.SpanKindInternal, localParent(), attribute.String("aws.xray.metadata.orders", `{"a":1}`))
	s.Resource = res()
	m, _ = checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Equal(t, map[string]any{"orders": map[string]any{"a": 1.0}}, m["metadata"])

	// Duplicate keys never reach the document (checkDoc rejects them).
	s = stub(trace.SpanKindInternal, localParent(),
		attribute.String("plain", "attr"),
		attribute.String("aws.xray.metadata.orders", `{"a":1,"a":{"b":1,"b":2}}`),
		attribute.String("aws.xray.metadata.default", `{"plain":"json","extra":1}`),
	)
	s.Resource = res()
	m, _ = checkDoc(t, testEncoder(Config{}).AppendSegment(nil, s.Snapshot()))
	assert.Equal(t, map[string]any{"b": 2.0}, get(m, "metadata.orders.a"))
	assert.Equal(t, "attr", get(m, "metadata.default.plain"), "the span attribute wins")
	assert.Equal(t, 1.0, get(m, "metadata.default.extra"))
}

// The rule behind Omitted: only INTERNAL spans of the AWS SDK for Go v2's
// instrumentation scopes (its phase spans) get no document; the SDK's call
// spans and INTERNAL spans of other scopes do. Which spans the SDK really
// emits is checked with real clients in middleware/awsmw
// (TestSDKTracingAlone).
func TestOmittedSDKPhaseSpans(t *testing.T) {
	enc := NewEncoder(Config{})
	for _, tc := range []struct {
		kind    trace.SpanKind
		scope   string
		omitted bool
	}{
		{trace.SpanKindInternal, "github.com/aws/aws-sdk-go-v2/service/dynamodb", true},
		{trace.SpanKindInternal, "github.com/aws/aws-sdk-go-v2/service/s3", true},
		{trace.SpanKindClient, "github.com/aws/aws-sdk-go-v2/service/dynamodb", false},
		{trace.SpanKindInternal, "github.com/aws/aws-sdk-go", false},
		{trace.SpanKindInternal, "github.com/o11y-go/o11y", false},
		{trace.SpanKindInternal, "", false},
	} {
		s := stub(tc.kind, localParent())
		s.InstrumentationScope.Name = tc.scope
		ro := s.Snapshot()
		assert.Equal(t, tc.omitted, Omitted(ro), "%v %q", tc.kind, tc.scope)
		doc := enc.AppendSegment([]byte("prefix"), ro)
		if tc.omitted {
			assert.Equal(t, "prefix", string(doc), "no document")
		} else {
			checkDoc(t, doc[len("prefix"):])
		}
	}
}
