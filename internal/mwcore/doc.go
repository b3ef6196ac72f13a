// Package mwcore is the one core the HTTP (middleware/httpmw) and gRPC
// (middleware/grpcmw) middlewares share, so that a request is treated the
// same way whichever protocol carries it:
//
//   - the request id: one rule for accepting an incoming id ([ValidRequestID]),
//     one generator ([AppendRequestID]), one header / metadata name;
//   - the X-Amzn-Trace-Id a server returns ([AppendTraceHeader]);
//   - the client address taken from X-Forwarded-For ([ClientAddress]);
//   - the access line's on/off switch and level policy ([Access]);
//   - the X-Ray outcome flags of a gRPC status code ([GRPCFlags]);
//   - the operation-name cardinality guard ([Ops]), whose cap is the metrics
//     recorder's MaxOperations, so span names and the metrics Operation
//     dimension always carry the same value.
//
// Everything here runs on the request path: nothing allocates unless its
// doc says so.
package mwcore
