package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/o11y-go/o11y/tracing"
)

func ExampleParseHeader() {
	// What an ALB forwards: its own Self field, the Root and a custom field.
	h, ok := tracing.ParseHeader("Self=1-67891233-12456789abcdef012345678; Root=1-67891233-ABCDEF012345678912345678;CalledFrom=app")
	fmt.Println(ok, h.TraceID, h.ParentID.IsValid(), h.Sampled == tracing.DecisionNone)
	fmt.Println(h)
	// Output:
	// true 67891233abcdef012345678912345678 false true
	// Root=1-67891233-abcdef012345678912345678;CalledFrom=app
}

// A service behind an ALB: the Root-only header continues the trace, the
// local sampler decides, the caller gets the decision back and downstream
// calls carry the trace and the custom field.
func ExampleXRayPropagator() {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithIDGenerator(tracing.NewIDGenerator()),
		sdktrace.WithSampler(tracing.ParentBased(sdktrace.AlwaysSample())),
	)
	prop := tracing.NewPropagator()

	in := http.Header{}
	in.Set(tracing.HeaderName, "Root=1-67891233-abcdef012345678912345678;Sampled=?;CalledFrom=app")
	ctx := prop.Extract(context.Background(), propagation.HeaderCarrier(in))
	ctx, span := tp.Tracer("example").Start(ctx, "GET /orders")
	defer span.End()
	fmt.Println("trace:", tracing.XRayTraceID(ctx), "sampled:", span.SpanContext().IsSampled())

	var buf [tracing.MaxHeaderLen]byte
	incoming, _ := tracing.IncomingHeader(ctx)
	fmt.Println("response:", string(incoming.AppendResponse(buf[:0], span.SpanContext())))

	out := http.Header{}
	prop.Inject(ctx, propagation.HeaderCarrier(out))
	h, _ := tracing.ParseHeader(out.Get(tracing.HeaderName))
	from, _ := h.Lookup("CalledFrom")
	fmt.Println("downstream parent is our span:", h.ParentID == span.SpanContext().SpanID(), "sampled:", h.Sampled, "CalledFrom:", from)
	// Output:
	// trace: 1-67891233-abcdef012345678912345678 sampled: true
	// response: Root=1-67891233-abcdef012345678912345678;Sampled=1
	// downstream parent is our span: true sampled: 1 CalledFrom: app
}

func ExampleNewIDGenerator() {
	before := time.Now().Unix()
	tid, sid := tracing.NewIDGenerator().NewIDs(context.Background())
	ts := int64(tid[0])<<24 | int64(tid[1])<<16 | int64(tid[2])<<8 | int64(tid[3])
	fmt.Println(ts >= before && ts <= time.Now().Unix(), sid.IsValid())
	// Output: true true
}

func ExampleSamplerFromName() {
	s, err := tracing.SamplerFromName("parentbased_traceidratio", "0.1", nil)
	fmt.Println(s.Description(), err)
	_, err = tracing.SamplerFromName("traceidratio", "ten percent", nil)
	fmt.Println(err)
	// Output:
	// XRayParentBased{ParentBased{root:XRayTraceIDRatio{0.1},remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}} <nil>
	// tracing: sampler traceidratio: argument "ten percent" is not a ratio in [0, 1]; using 1
}

func ExampleAnnotate() {
	rec := tracetest.NewSpanRecorder()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))

	ctx, span := tracing.Start(context.Background(), "charge")
	tracing.Annotate(ctx, "customer.tier", "gold") // searchable in X-Ray
	tracing.Annotate(ctx, "retries", 2)
	tracing.AddMetadata(ctx, "cart", map[string]int{"apples": 3}) // kept, not indexed
	tracing.RecordError(ctx, errors.New("card declined"))
	span.End()

	s := rec.Ended()[0]
	for _, kv := range s.Attributes() {
		fmt.Println(kv.Key, "=", kv.Value.String())
	}
	fmt.Println(s.Status().Code, s.Events()[0].Name)
	// Output:
	// customer_tier = gold
	// aws.xray.annotations = ["customer_tier","retries"]
	// retries = 2
	// cart = {"apples":3}
	// Error exception
}

func ExampleDetach() {
	reqCtx, cancel := context.WithCancel(context.Background())
	bg := tracing.Detach(reqCtx) // same span and values, no cancellation
	cancel()
	fmt.Println(reqCtx.Err(), bg.Err())
	// Output: context canceled <nil>
}
