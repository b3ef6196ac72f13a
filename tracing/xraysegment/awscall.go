package xraysegment

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/o11y-go/o11y/internal/jsonenc"
)

// appendAWS writes the aws block: the resource part on segments, and for
// AWS SDK calls (awsAPI) the fields the X-Ray SDKs record: operation,
// region, request_id, retries and the resource the call addressed
// (table_name/table_names, queue_url, bucket_name and key, topic_arn,
// function_name, stream_name). The aws.* keys ADOT reads (aws.operation,
// aws.queue_url, aws.table_name, …) are written for any span.
func appendAWS(dst []byte, v *view, ri *resInfo, isSeg, awsAPI bool) []byte {
	mark := len(dst)
	dst = append(dst, `,"aws":{`...)
	n := 0
	if isSeg && len(ri.awsFields) > 0 {
		dst = append(dst, ri.awsFields...)
		n++
	}
	if v == nil { // resource part only
		if n == 0 {
			return dst[:mark]
		}
		return append(dst, '}')
	}
	str := func(key, val string) {
		if val == "" {
			return
		}
		dst = appendConstKey(dst, key, n > 0)
		dst = appendStr(dst, val, maxStringBytes, "")
		n++
	}
	op := v.str(sAWSOperation)
	if op == "" && awsAPI {
		op = awsOperation(v.str(sRPCMethod))
	}
	str("operation", op)
	str("account_id", v.str(sAWSAccount))
	str("region", v.str(sAWSRegion))
	str("request_id", v.str(sAWSRequestID))
	if retries, ok := v.num(sAWSRetries); ok && retries >= 0 {
		dst = appendConstKey(dst, "retries", n > 0)
		dst = jsonenc.AppendSmallInt(dst, retries)
		n++
	} else if retries, ok := v.num(sResendCount); ok && awsAPI && retries >= 0 {
		dst = appendConstKey(dst, "retries", n > 0)
		dst = jsonenc.AppendSmallInt(dst, retries)
		n++
	}
	queue := v.str(sAWSQueueURL)
	if queue == "" && awsAPI {
		// otelaws puts the SQS queue URL in server.address (v0.67+) or
		// net.peer.name (older releases).
		if a := v.str(sServerAddr); strings.Contains(a, "://") {
			queue = a
		} else if a := v.str(sNetPeerName); strings.Contains(a, "://") {
			queue = a
		}
	}
	str("queue_url", queue)
	if t := v.val(sAWSTable); t.Type() == attribute.STRING {
		str("table_name", t.AsString())
	} else if t.Type() == attribute.STRINGSLICE {
		names := t.AsStringSlice()
		if len(names) == 1 {
			str("table_name", names[0])
		} else if len(names) > 1 {
			dst = appendConstKey(dst, "table_names", n > 0)
			n++
			dst = append(dst, '[')
			for i, name := range names {
				if i == maxMetaSliceItems {
					break
				}
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendStr(dst, name, maxStringBytes, "")
			}
			dst = append(dst, ']')
		}
	}
	str("bucket_name", v.str(sAWSBucket))
	str("key", v.str(sAWSKey))
	str("topic_arn", v.str(sAWSTopic))
	fn := v.str(sAWSFunction)
	if fn == "" && awsAPI {
		fn = v.str(sFaaSInvoked)
	}
	str("function_name", fn)
	str("stream_name", v.str(sAWSStream))
	if n == 0 {
		return dst[:mark]
	}
	return append(dst, '}')
}

// awsOperation is the operation part of an AWS rpc.method: "GetItem" from
// "DynamoDB/GetItem" (otelaws v0.67+, semconv 1.39+) or from "GetItem"
// (older otelaws, which set rpc.service apart).
func awsOperation(method string) string {
	if i := strings.LastIndexByte(method, '/'); i >= 0 {
		return method[i+1:]
	}
	return method
}

// awsService is the AWS service an AWS SDK span called, as the SDK's
// service id names it ("DynamoDB", "S3", "Secrets Manager"): from
// aws.remote.service (ADOT's AWS::/AWS.SDK. forms), aws.service,
// rpc.service (older otelaws) or the part of rpc.method before '/'.
func awsService(v *view) string {
	if s := v.str(sAWSRemoteSvc); s != "" {
		return strings.TrimPrefix(strings.TrimPrefix(s, "AWS.SDK."), "AWS::")
	}
	if s := v.str(sAWSService); s != "" {
		return s
	}
	if s := v.str(sRPCService); s != "" {
		return s
	}
	m := v.str(sRPCMethod)
	if i := strings.IndexByte(m, '/'); i > 0 {
		return m[:i]
	}
	return ""
}

// isThrottleCode reports whether an AWS error code means the call was
// throttled: the codes aws-sdk-go-v2's retryer treats as throttling
// (retry.DefaultThrottleErrorCodes).
func isThrottleCode(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
		"LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException":
		return true
	}
	return false
}

func appendSQL(dst []byte, v *view, long bool, spanName string) []byte {
	urlMax, queryMax := maxStringBytes, maxStringBytes
	if long {
		urlMax, queryMax = maxURLBytes, maxQueryBytes
	}
	dst = append(dst, `,"sql":{"database_type":`...)
	dst = appendStr(dst, v.str(sDBSystem), maxStringBytes, "")
	str := func(key, val string, max int) {
		if val == "" {
			return
		}
		dst = appendConstKey(dst, key, true)
		dst = appendStr(dst, val, max, "")
	}
	if host := v.str(sServerAddr); host != "" {
		dst = append(dst, `,"url":"`...)
		p := pieces{dst: dst, left: urlMax}
		p.add(host)
		if port, ok := v.num(sServerPort); ok && port > 0 {
			p.add(":")
			p.addInt(port)
		}
		if db := v.str(sDBName); db != "" {
			p.add("/")
			p.add(db)
		}
		dst = append(p.dst, '"')
	}
	str("connection_string", v.str(sDBConn), urlMax)
	str("sanitized_query", v.str(sDBStatement), queryMax)
	str("user", v.str(sDBUser), maxStringBytes)
	if strings.HasPrefix(v.str(sDBOperation), "sql.stmt.") || strings.HasPrefix(spanName, "sql.stmt.") {
		// otelsql's prepared-statement methods (its span names):
		// X-Ray's "statement".
		str("preparation", "statement", 0)
	}
	return append(dst, '}')
}
