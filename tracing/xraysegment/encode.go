package xraysegment

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/o11y-go/o11y/internal/jsonenc"
	"github.com/o11y-go/o11y/internal/xraywire"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Trim levels: each drops more of the optional, bulky parts of a document.
const (
	lvlFull       = iota
	lvlNoMetadata // metadata dropped
	lvlNoStacks   // exception stacks dropped too
	lvlMinimal    // cause, annotations and links dropped too
	lvlShort      // long URLs and SQL statements cut to 250 bytes too
)

// AppendSegment appends the X-Ray segment document for span to dst (without
// the daemon's datagram header). The document fits one daemon datagram
// (65,474 bytes, 65,507 with the header): metadata, then exception stacks,
// then cause, annotations and links are dropped, and finally long URLs and
// SQL statements cut to 250 bytes, until it fits. Encoding a typical server
// span into a reused buffer allocates nothing. A nil span, and a span [Omitted]
// reports, append nothing.
func (e *Encoder) AppendSegment(dst []byte, span sdktrace.ReadOnlySpan) []byte {
	if e == nil {
		e = zeroEncoder
	}
	if span == nil || Omitted(span) {
		return dst
	}
	var v view
	v.init(span.Attributes())
	v.kind = span.SpanKind()
	mode := modeNormal
	if v.localRootSplit(v.kind) {
		mode = modeLocalRootSub
	}
	return e.appendSized(dst, span, &v, mode)
}

// awsSDKScope prefixes the instrumentation scope of the spans the AWS SDK
// for Go v2 starts through its own tracing (aws.Config clients with a
// TracerProvider, e.g. smithyoteltracing.Adapt): one per service client,
// "github.com/aws/aws-sdk-go-v2/service/dynamodb".
const awsSDKScope = "github.com/aws/aws-sdk-go-v2/"

// Omitted reports whether span gets no X-Ray document: an INTERNAL span of
// the AWS SDK for Go v2's own tracing. The SDK traces each call as one
// CLIENT span (<service>.<operation>, rpc.system=aws-api) with INTERNAL
// children for its phases (RetryLoop, Attempt, ResolveEndpoint,
// SignRequest, DoHTTPRequest, OperationSerializer, …). X-Ray's service map
// and timeline show one AWS subsegment per call, as the X-Ray SDKs do, so
// the CLIENT span stands for the call and its phase spans are left out.
// Exporters skip such spans without counting them as sent or dropped.
func Omitted(span sdktrace.ReadOnlySpan) bool {
	return span.SpanKind() == trace.SpanKindInternal && strings.HasPrefix(span.InstrumentationScope().Name, awsSDKScope)
}

// AppendLocalRootSegment handles spans marked aws.span.kind=LOCAL_ROOT that
// are CLIENT or PRODUCER spans (the first span of a service that has no
// SERVER span, e.g. a job calling out). For them X-Ray needs two documents:
// [Encoder.AppendSegment] writes the dependency subsegment (the span's own
// id) and this method the service segment it hangs from (an id derived from
// the span id, the span's parent, named after aws.local.service). For other
// spans it returns dst and false.
func (e *Encoder) AppendLocalRootSegment(dst []byte, span sdktrace.ReadOnlySpan) ([]byte, bool) {
	if e == nil {
		e = zeroEncoder
	}
	if span == nil {
		return dst, false
	}
	var v view
	v.init(span.Attributes())
	v.kind = span.SpanKind()
	if !v.localRootSplit(v.kind) {
		return dst, false
	}
	return e.appendSized(dst, span, &v, modeLocalRootSeg), true
}

// docMode selects which document appendDoc writes for a span.
type docMode uint8

const (
	modeNormal       docMode = iota
	modeLocalRootSub         // LOCAL_ROOT dependency: own id, parent = derived segment id
	modeLocalRootSeg         // LOCAL_ROOT service segment: derived id
)

func (v *view) localRootSplit(kind trace.SpanKind) bool {
	return (kind == trace.SpanKindClient || kind == trace.SpanKindProducer) && v.str(sAWSSpanKind) == "LOCAL_ROOT"
}

// localRootID derives the service segment's id from the span id with a
// bijective mix, so the two documents agree without shared state.
func localRootID(id trace.SpanID) trace.SpanID {
	x := binary.BigEndian.Uint64(id[:])
	x = (x ^ 0x9e3779b97f4a7c15) * 0xbf58476d1ce4e5b9
	x ^= x >> 31
	if x == 0 {
		x = 1
	}
	var out trace.SpanID
	binary.BigEndian.PutUint64(out[:], x)
	return out
}

func (e *Encoder) appendSized(dst []byte, span sdktrace.ReadOnlySpan, v *view, mode docMode) []byte {
	start := len(dst)
	ri := e.resourceInfo(span.Resource())
	for lvl := lvlFull; ; lvl++ {
		dst = e.appendDoc(dst[:start], span, v, ri, lvl, mode)
		if len(dst)-start <= xraywire.MaxDocumentSize || lvl == lvlShort {
			if lvl > lvlFull {
				e.trimmed.Add(1)
			}
			return dst
		}
	}
}

func (e *Encoder) newExceptionID() uint64 {
	if e.idSource != nil {
		return e.idSource()
	}
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

func (e *Encoder) appendDoc(dst []byte, s sdktrace.ReadOnlySpan, v *view, ri *resInfo, lvl int, mode docMode) []byte {
	docStart := len(dst)
	sc, parent, kind := s.SpanContext(), s.Parent(), v.kind
	id, parentID, hasParent := sc.SpanID(), parent.SpanID(), parent.IsValid()
	isSeg := kind == trace.SpanKindServer || kind == trace.SpanKindConsumer || !hasParent
	switch mode {
	case modeLocalRootSeg:
		isSeg, id = true, localRootID(id)
	case modeLocalRootSub:
		isSeg, parentID, hasParent = false, localRootID(id), true
	}
	full := mode != modeLocalRootSeg // the service segment carries no call details
	awsAPI := v.str(sRPCSystem) == "aws-api"

	dst = append(dst, `{"name":`...)
	if isSeg {
		dst = e.appendSegmentName(dst, s, v, ri, parent, mode == modeLocalRootSeg)
	} else {
		dst = appendSubsegmentName(dst, s, v, kind, awsAPI)
	}
	dst = appendIDs(dst, id, sc.TraceID(), parentID, hasParent)
	if !isSeg {
		dst = append(dst, `,"type":"subsegment"`...)
		if ns := namespace(kind, v, awsAPI); ns != "" {
			dst = append(dst, `,"namespace":"`...)
			dst = append(dst, ns...)
			dst = append(dst, '"')
		}
	}
	startNS := s.StartTime().UnixNano()
	end := s.EndTime()
	endNS := end.UnixNano()
	if end.IsZero() || endNS < startNS {
		endNS = startNS
	}
	dst = appendTimes(dst, startNS, endNS)

	if isSeg {
		if ri.origin != "" {
			dst = append(dst, `,"origin":"`...)
			dst = append(dst, ri.origin...)
			dst = append(dst, '"')
		}
		if u := v.str(sEnduser); u != "" {
			dst = append(dst, `,"user":`...)
			dst = appendStr(dst, u, maxStringBytes, "")
		}
		if ri.service != nil {
			dst = append(dst, `,"service":`...)
			dst = append(dst, ri.service...)
		}
	}

	status := s.Status()
	fault, errFlag, throttle := flags(&status, v, awsAPI)
	dst = append(dst, flagsJSON[b2i(fault)<<2|b2i(errFlag)<<1|b2i(throttle)]...)

	if !full {
		dst = appendAWS(dst, nil, ri, true, false)
		if lvl < lvlNoMetadata && len(ri.meta) > 0 {
			dst = append(dst, `,"metadata":{"default":{`...)
			dst = append(dst, ri.meta...)
			dst = append(dst, '}', '}')
		}
		return append(dst, '}')
	}
	urlMax := maxURLBytes
	if lvl == lvlShort {
		urlMax = maxStringBytes
	}
	hasHTTP := v.has(sMethod) || v.has(sURLFull) || v.has(sStatus) || v.has(sUserAgent) || v.has(sTarget) || v.has(sScheme)
	if hasHTTP {
		dst = appendHTTP(dst, v, kind, isSeg, awsAPI, urlMax)
	}
	dst = appendAWS(dst, v, ri, isSeg, awsAPI)
	hasSQL := isSQLSystem(v.str(sDBSystem))
	if hasSQL {
		dst = appendSQL(dst, v, lvl < lvlShort, s.Name())
	}
	if lvl < lvlMinimal {
		msg := status.Description
		if msg == "" && awsAPI {
			// The SDK's own tracing sets no status description; it
			// records the error as exception.message.
			msg = v.str(sExcMessage)
		}
		dst = e.appendCause(dst, s, status.Code, msg, kind, causeType(v, awsAPI), ri.goStacks && lvl < lvlNoStacks)
		dst = e.appendAnnotations(dst, v)
		dst = appendLinks(dst, s.Links())
	}
	if lvl < lvlNoMetadata {
		dst = appendMetadata(dst, v, ri, isSeg, hasHTTP, hasSQL, docStart)
	}
	return append(dst, '}')
}

// namespace: "aws" for AWS SDK calls, "remote" for other downstream calls,
// none for local work.
func namespace(kind trace.SpanKind, v *view, awsAPI bool) string {
	switch {
	case awsAPI || v.has(sAWSService):
		return "aws"
	case kind == trace.SpanKindClient || kind == trace.SpanKindProducer:
		return "remote"
	case kind == trace.SpanKindConsumer && v.has(sAWSRemoteSvc):
		return "remote"
	}
	return ""
}

// flags derives fault/error/throttle: from the HTTP status when it is 4xx or
// 5xx, else from the gRPC status code, else from the span status. On AWS
// SDK calls without an HTTP status, api.error_fault=client (the SDK's own
// tracing) makes a failed call an error rather than a fault; an AWS
// throttling error code (rpc.response.status_code from middleware/awsmw, or
// api.error_code from the SDK's own tracing) also sets throttle, and error
// when the status did not already flag the call.
func flags(st *sdktrace.Status, v *view, awsAPI bool) (fault, errFlag, throttle bool) {
	fault, errFlag, throttle = statusFlags(st, v)
	if awsAPI && fault && st.Code == codes.Error && !v.has(sStatus) && v.str(sAPIFault) == "client" {
		// The AWS SDK's own tracing records no HTTP status on the call's
		// span but says whose fault the error was (api.error_fault).
		fault, errFlag = false, true
	}
	if awsAPI && !throttle && isThrottleCode(v.str(sRPCRespCode)) {
		throttle = true
		errFlag = errFlag || !fault
	}
	return fault, errFlag, throttle
}

func statusFlags(st *sdktrace.Status, v *view) (fault, errFlag, throttle bool) {
	if code, ok := v.num(sStatus); ok && code >= 400 && code <= 599 {
		if code < 500 {
			return false, true, code == 429
		}
		return true, false, false
	}
	if code, ok := v.num(sGRPCStatus); ok {
		switch code {
		case 0: // OK
			return false, false, false
		case 1, 3, 5, 6, 7, 9, 10, 11, 16: // Canceled, InvalidArgument, NotFound, AlreadyExists, PermissionDenied, FailedPrecondition, Aborted, OutOfRange, Unauthenticated
			return false, true, false
		case 8: // ResourceExhausted
			return false, true, true
		case 2, 4, 12, 13, 14, 15: // Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss
			return true, false, false
		}
	}
	return st.Code == codes.Error, false, false
}

// causeType is the exception type for a failed span that recorded no
// exception event: the AWS error code on AWS SDK calls, else error.type.
func causeType(v *view, awsAPI bool) string {
	if awsAPI {
		if c := v.str(sRPCRespCode); c != "" {
			return c
		}
	}
	return v.str(sErrorType)
}

// idsTemplate is the fixed-width run of a document after its name: span id,
// X-Ray trace id and parent id, with the hex digits filled in by appendIDs
// (the same text xrayid.AppendSpanID and xrayid.AppendTraceID produce).
const (
	idsTemplate    = `,"id":"0000000000000000","trace_id":"1-00000000-000000000000000000000000","parent_id":"0000000000000000"`
	idsNoParentLen = len(`,"id":"0000000000000000","trace_id":"1-00000000-000000000000000000000000"`)
	idsIDOff       = len(`,"id":"`)
	idsTraceOff    = len(`,"id":"0000000000000000","trace_id":"1-`)
	idsParentOff   = len(`,"id":"0000000000000000","trace_id":"1-00000000-000000000000000000000000","parent_id":"`)
)

// appendIDs appends `,"id":"…","trace_id":"…"` and, with hasParent,
// `,"parent_id":"…"`, writing the digits in place.
func appendIDs(dst []byte, id trace.SpanID, tid trace.TraceID, parentID trace.SpanID, hasParent bool) []byte {
	n := len(dst)
	dst = append(dst, idsTemplate...)
	b := dst[n : n+len(idsTemplate)]
	putHex4(b[idsIDOff:], id[0:4])
	putHex4(b[idsIDOff+8:], id[4:8])
	putHex4(b[idsTraceOff:], tid[0:4])
	for i := 0; i < 3; i++ {
		putHex4(b[idsTraceOff+9+8*i:], tid[4+4*i:8+4*i])
	}
	if !hasParent {
		return dst[:n+idsNoParentLen]
	}
	putHex4(b[idsParentOff:], parentID[0:4])
	putHex4(b[idsParentOff+8:], parentID[4:8])
	return dst
}

// putHex4 writes the four bytes of src as eight lowercase hex digits into
// out[:8], all at once: each byte is spread into a 16-bit lane, split into
// its two nibbles, and each nibble n becomes '0'+n, plus 39 ('a'-'0'-10)
// when n >= 10.
func putHex4(out []byte, src []byte) {
	x := uint64(binary.LittleEndian.Uint32(src))
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x>>4)&0x000f000f000f000f | (x&0x000f000f000f000f)<<8 // high nibble first
	ge10 := (x + 0x0606060606060606) >> 4 & 0x0101010101010101
	binary.LittleEndian.PutUint64(out, x+0x3030303030303030+ge10*39)
}

// flagsJSON[fault<<2|error<<1|throttle] is the flags' JSON.
var flagsJSON = func() (t [8]string) {
	for i := range t {
		t[i] = `,"fault":` + strconv.FormatBool(i&4 != 0) + `,"error":` + strconv.FormatBool(i&2 != 0) +
			`,"throttle":` + strconv.FormatBool(i&1 != 0)
	}
	return t
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timesTemplate is `,"start_time":…,"end_time":…` for ten-digit seconds.
const (
	timesTemplate = `,"start_time":0000000000.000000,"end_time":0000000000.000000`
	timesStartOff = len(`,"start_time":`)
	timesEndOff   = len(`,"start_time":0000000000.000000,"end_time":`)
)

// appendTimes appends start_time and end_time (endNS >= startNS) as
// jsonenc.AppendEpochSeconds writes them; when both have ten-digit
// seconds (2001 onwards: every real span), in one fixed-width piece.
func appendTimes(dst []byte, startNS, endNS int64) []byte {
	if startNS < 1e18 || endNS < startNS {
		dst = append(dst, `,"start_time":`...)
		dst = jsonenc.AppendEpochSeconds(dst, startNS)
		dst = append(dst, `,"end_time":`...)
		return jsonenc.AppendEpochSeconds(dst, endNS)
	}
	// 1e18 <= startNS <= endNS <= MaxInt64: seconds from 1e9 to 9223372036.
	n := len(dst)
	dst = append(dst, timesTemplate...)
	b := dst[n : n+len(timesTemplate)]
	jsonenc.PutEpochSeconds(b[timesStartOff:], uint64(startNS))
	jsonenc.PutEpochSeconds(b[timesEndOff:], uint64(endNS))
	return dst
}
