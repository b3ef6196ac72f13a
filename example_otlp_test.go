package o11y_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/o11y-go/o11y"
)

// OTLP settings in code, without os.Setenv: a collector behind TLS with a
// private CA, an API key header and gzip. Fields left empty fall back to
// the OTEL_EXPORTER_OTLP_* variables; fields that are set win over them.
func ExampleTracesConfig_otlp() {
	collector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Println(r.Method, r.URL.Path, "api-key:", r.Header.Get("Api-Key"), "encoding:", r.Header.Get("Content-Encoding"))
	}))
	defer collector.Close()
	privateCA := x509.NewCertPool()
	privateCA.AddCert(collector.Certificate())

	cfg := o11y.Config{
		ServiceName:              "orders",
		DisableResourceDetection: true,
		DisableGlobals:           true,
		Output:                   io.Discard,
		Metrics:                  o11y.MetricsConfig{Disable: true},
		Traces: o11y.TracesConfig{
			Sampler:         o11y.SamplerAlwaysOn,
			OTLPEndpoint:    collector.URL + "/v1/traces", // a traces URL is used as is
			OTLPProtocol:    o11y.OTLPProtocolHTTPProtobuf,
			OTLPHeaders:     map[string]string{"api-key": "secret"},
			OTLPCompression: o11y.OTLPCompressionGzip,
			OTLPTimeout:     5 * time.Second,
			OTLPTLSConfig:   &tls.Config{RootCAs: privateCA}, // add Certificates for mutual TLS
		},
	}

	sdk, err := o11y.Start(context.Background(), cfg)
	if err != nil {
		fmt.Println("degraded:", err)
	}
	_, span := sdk.Tracer().Start(context.Background(), "checkout")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("shutdown:", sdk.Shutdown(ctx))
	// Output:
	// POST /v1/traces api-key: secret encoding: gzip
	// shutdown: <nil>
}
