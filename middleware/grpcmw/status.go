package grpcmw

import (
	"google.golang.org/grpc/codes"

	"github.com/o11y-go/o11y/metrics"
)

// CodeFlags returns the X-Ray outcome flags for a gRPC status code. The same
// table drives the span status, the EMF Error/Fault metrics and the access-log
// level, on server and client alike:
//
//	OK                                                    → none
//	Canceled, InvalidArgument, NotFound, AlreadyExists,
//	PermissionDenied, Unauthenticated, FailedPrecondition,
//	Aborted, OutOfRange                                   → error
//	ResourceExhausted                                     → error + throttle
//	Unknown, DeadlineExceeded, Unimplemented, Internal,
//	Unavailable, DataLoss, and any code outside 0–16      → fault
//
// It follows aws-xray-sdk-go's gRPC table with one change: ResourceExhausted
// also sets error, as HTTP 429 does in X-Ray (flags combine), so throttled
// calls count in the Error metric. Canceled and Aborted are the caller's
// business (it gave up, or lost a concurrency race it should retry), so they
// are errors, not faults.
func CodeFlags(c codes.Code) metrics.Flags {
	switch c {
	case codes.OK:
		return 0
	case codes.Canceled, codes.InvalidArgument, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.FailedPrecondition,
		codes.Aborted, codes.OutOfRange:
		return metrics.FlagError
	case codes.ResourceExhausted:
		return metrics.FlagError | metrics.FlagThrottle
	default: // Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss, out of range
		return metrics.FlagFault
	}
}
