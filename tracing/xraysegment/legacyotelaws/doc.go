// Package legacyotelaws checks the X-Ray translation of AWS SDK spans from
// an otelaws release before semantic conventions 1.39 (v0.59.0: rpc.system,
// rpc.service and rpc.method apart), made by real aws-sdk-go-v2 calls. It
// is its own module because the current otelaws (middleware/awsmw) cannot
// share a build with an old one; it has tests only.
package legacyotelaws
