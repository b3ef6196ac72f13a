package metrics_test

import (
	"context"
	"os"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/o11y-go/o11y/metrics"
)

func Example() {
	r := metrics.New(metrics.Options{
		Namespace:     "Shop",
		ServiceName:   "orders",
		FlushInterval: -1, // flush by hand in this example
		Writer:        os.Stdout,
		Now:           func() time.Time { return time.UnixMilli(1700000000000) },
	})
	op := r.Operation("GET /orders/{id}")
	op.Observe(context.Background(), 12*time.Millisecond, 0)
	op.Observe(context.Background(), 480*time.Millisecond, metrics.FlagFault)
	// Shutdown writes what is pending; give it a deadline (the SDK's share
	// of the stop budget), as a service would.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.Shutdown(ctx)
	// Output:
	// {"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service","Operation"],["Service"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Error","Unit":"Count"},{"Name":"Fault","Unit":"Count"}]}]},"Service":"orders","Operation":"GET /orders/{id}","Latency":{"Values":[12,479.232],"Counts":[1,1],"Max":480,"Min":12,"Count":2,"Sum":492},"Error":{"Values":[0],"Counts":[2],"Max":0,"Min":0,"Count":2,"Sum":0},"Fault":{"Values":[0,1],"Counts":[1,1],"Max":1,"Min":0,"Count":2,"Sum":1}}
}

func ExampleRecorder_Logger() {
	r := metrics.New(metrics.Options{
		Namespace:     "Shop",
		ServiceName:   "orders",
		FlushInterval: -1,
		Writer:        os.Stdout,
		Now:           func() time.Time { return time.UnixMilli(1700000000000) },
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // shutdown budget
	defer cancel()
	defer r.Shutdown(ctx)
	l := r.Logger(context.Background()) // a request context adds xray_trace_id and request_id
	l.PutDimensions("PaymentProvider", "acme")
	l.SetProperty("cart_items", 3)
	_ = l.PutMetric("CheckoutValue", 129.95, metrics.None)
	_ = l.PutMetric("Items", 3, metrics.Count)
	_ = l.Flush()
	// Output:
	// {"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service","PaymentProvider"]],"Metrics":[{"Name":"CheckoutValue","Unit":"None"},{"Name":"Items","Unit":"Count"}]}]},"Service":"orders","PaymentProvider":"acme","cart_items":3,"CheckoutValue":129.95,"Items":3}
}

func ExampleNewExporter() {
	r := metrics.New(metrics.Options{Namespace: "Shop", ServiceName: "orders", FlushInterval: -1, Writer: os.Stdout,
		Now: func() time.Time { return time.UnixMilli(1700000000000) }})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second) // shutdown budget
	defer cancel()
	defer r.Shutdown(ctx)
	exp := metrics.NewExporter(r)
	reader := sdkmetric.NewManualReader(sdkmetric.WithTemporalitySelector(exp.Temporality))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	queries, _ := mp.Meter("github.com/acme/db").Int64Counter("db.queries", metric.WithUnit("{query}"))
	queries.Add(context.Background(), 3, metric.WithAttributes(attribute.String("table", "orders")))

	// A PeriodicReader does this every interval; here by hand.
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	_ = exp.Export(context.Background(), &rm)
	// Output:
	// {"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service","table"]],"Metrics":[{"Name":"db.queries","Unit":"Count"}]}]},"Service":"orders","table":"orders","otel_scope":"github.com/acme/db","db.queries":3}
}
