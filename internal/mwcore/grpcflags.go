package mwcore

import "github.com/o11y-go/o11y/metrics"

// GRPCFlags returns the X-Ray outcome flags for a gRPC status code (the
// numeric codes.Code, so this package does not link grpc). The same table
// drives the span status, the EMF Error/Fault metrics and the access-line
// level, on server and client alike:
//
//	0 OK                                                  → none
//	1 Canceled, 3 InvalidArgument, 5 NotFound,
//	6 AlreadyExists, 7 PermissionDenied,
//	16 Unauthenticated, 9 FailedPrecondition,
//	10 Aborted, 11 OutOfRange                             → error
//	8 ResourceExhausted                                   → error + throttle
//	2 Unknown, 4 DeadlineExceeded, 12 Unimplemented,
//	13 Internal, 14 Unavailable, 15 DataLoss, and any
//	code outside 0–16                                     → fault
//
// It follows aws-xray-sdk-go's gRPC table with one change: ResourceExhausted
// also sets error, as HTTP 429 does in X-Ray (flags combine), so throttled
// calls count in the Error metric. Canceled and Aborted are the caller's
// business (it gave up, or lost a concurrency race it should retry), so they
// are errors, not faults.
func GRPCFlags(code uint32) metrics.Flags {
	switch code {
	case 0:
		return 0
	case 1, 3, 5, 6, 7, 9, 10, 11, 16:
		return metrics.FlagError
	case 8:
		return metrics.FlagError | metrics.FlagThrottle
	default:
		return metrics.FlagFault
	}
}

// HTTPFlags maps an HTTP status to X-Ray outcome flags: 4xx error (429 also
// throttle), 5xx fault.
func HTTPFlags(status int) metrics.Flags {
	switch {
	case status == 429:
		return metrics.FlagError | metrics.FlagThrottle
	case status >= 400 && status < 500:
		return metrics.FlagError
	case status >= 500 && status < 600:
		return metrics.FlagFault
	}
	return 0
}
