package httpmw

import "net/http"

// headerCarrier is propagation.HeaderCarrier without its allocation:
// propagators ask for lowercase keys ("traceparent", "baggage"), and
// http.Header.Get allocates to canonicalise them. The keys the SDK's
// propagators use are answered from a table; others fall back to Get.
type headerCarrier http.Header

func (c headerCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 {
		return v[0]
	}
	var canon string
	switch key {
	case "traceparent":
		canon = "Traceparent"
	case "tracestate":
		canon = "Tracestate"
	case "baggage":
		canon = "Baggage"
	case "x-amzn-trace-id", "X-Amzn-Trace-Id":
		canon = "X-Amzn-Trace-Id"
	default:
		return http.Header(c).Get(key)
	}
	if v := c[canon]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (c headerCarrier) Set(key, value string) { http.Header(c).Set(key, value) }

func (c headerCarrier) Keys() []string {
	out := make([]string, 0, len(c))
	for k := range c {
		out = append(out, k)
	}
	return out
}
