package xraysegment

// Attribute keys the translator understands. Each key maps to one slot; a
// stable-semconv key wins over its legacy alias when a span carries both.
type slot uint8

const (
	sNone slot = iota
	// http
	sMethod
	sURLFull
	sScheme
	sServerAddr
	sServerPort
	sURLPath
	sURLQuery
	sTarget
	sHTTPHost
	sServerName
	sNetHostName
	sNetHostPort
	sNetPeerName
	sNetPeerPort
	sHostName
	sUserAgent
	sStatus
	sClientAddr
	sPeerAddr
	sContentLen
	// identity and naming
	sEnduser
	sAnnotations
	sRPCSystem
	sRPCService
	sRPCMethod
	sGRPCStatus
	sPeerService
	sAWSRemoteSvc
	sAWSLocalSvc
	sAWSService
	sAWSSpanKind
	// aws call
	sAWSOperation
	sAWSAccount
	sAWSRegion
	sAWSRequestID
	sAWSQueueURL
	sAWSTable
	sAWSBucket
	sAWSKey
	sAWSTopic
	sAWSStream
	sAWSFunction // aws.function_name (faas.invoked_name is sFaaSInvoked)
	sAWSRetries  // aws.retries (http.request.resend_count is sResendCount)
	sFaaSInvoked // faas.invoked_name: a Lambda function name on AWS calls
	sResendCount // http.request.resend_count: retries on AWS calls
	sRPCRespCode // rpc.response.status_code: the AWS error code on AWS calls
	sErrorType   // error.type (exception.type as a span attribute: the AWS SDK's own tracing)
	sAPIFault    // api.error_fault: "client" or "server" (the AWS SDK's own tracing)
	sExcMessage  // exception.message as a span attribute (the AWS SDK's own tracing)
	sMsgSystem   // messaging.system
	// sql
	sDBSystem
	sDBName
	sDBStatement
	sDBUser
	sDBConn
	sDBOperation // db.operation.name (otelsql: "sql.stmt.exec", …)
	nSlots
)

// group says when an attribute is consumed by a structured field instead of
// being written to metadata.
type group uint8

const (
	gMeta   group = iota // always metadata
	gHTTP                // consumed when the http block is written
	gAWS                 // consumed: written to the aws block
	gSQL                 // consumed when the sql block is written
	gUser                // consumed on segments (user)
	gHidden              // never written (aws.xray.annotations)
	nGroups = 8          // a power of two, for view.groups
)

const _ = uint(nGroups - 1 - gHidden)

var slotGroup = [256]group{ // indexed by any slot value without a bounds check
	sMethod: gHTTP, sURLFull: gHTTP, sScheme: gHTTP, sServerAddr: gHTTP, sServerPort: gHTTP,
	sURLPath: gHTTP, sURLQuery: gHTTP, sTarget: gHTTP, sHTTPHost: gHTTP, sServerName: gHTTP,
	sNetHostName: gHTTP, sNetHostPort: gHTTP, sNetPeerName: gHTTP, sNetPeerPort: gHTTP,
	sUserAgent: gHTTP, sStatus: gHTTP, sClientAddr: gHTTP, sPeerAddr: gHTTP, sContentLen: gHTTP,
	sEnduser: gUser, sAnnotations: gHidden,
	sAWSOperation: gAWS, sAWSAccount: gAWS, sAWSRegion: gAWS, sAWSRequestID: gAWS,
	sAWSQueueURL: gAWS, sAWSTable: gAWS, sAWSBucket: gAWS, sAWSKey: gAWS, sAWSTopic: gAWS,
	sAWSStream: gAWS, sAWSFunction: gAWS, sAWSRetries: gAWS,
	sDBStatement: gSQL, sDBUser: gSQL, sDBConn: gSQL,
}

// classify maps an attribute key to its slot; legacy reports an old-semconv
// alias (used only when the stable key is absent).
func classify(k string) (s slot, legacy bool) {
	switch k {
	case "http.request.method":
		return sMethod, false
	case "http.method":
		return sMethod, true
	case "url.full":
		return sURLFull, false
	case "http.url":
		return sURLFull, true
	case "url.scheme":
		return sScheme, false
	case "http.scheme":
		return sScheme, true
	case "server.address":
		return sServerAddr, false
	case "server.port":
		return sServerPort, false
	case "url.path":
		return sURLPath, false
	case "url.query":
		return sURLQuery, false
	case "http.target":
		return sTarget, true
	case "http.host":
		return sHTTPHost, true
	case "http.server_name":
		return sServerName, true
	case "net.host.name":
		return sNetHostName, true
	case "net.host.port":
		return sNetHostPort, true
	case "net.peer.name":
		return sNetPeerName, true
	case "net.peer.port":
		return sNetPeerPort, true
	case "host.name":
		return sHostName, true
	case "user_agent.original":
		return sUserAgent, false
	case "http.user_agent":
		return sUserAgent, true
	case "http.response.status_code":
		return sStatus, false
	case "http.status_code":
		return sStatus, true
	case "client.address":
		return sClientAddr, false
	case "http.client_ip":
		return sClientAddr, true
	case "network.peer.address":
		return sPeerAddr, false
	case "net.peer.ip", "net.sock.peer.addr":
		return sPeerAddr, true
	case "http.response.body.size":
		return sContentLen, false
	case "http.response_content_length":
		return sContentLen, true
	case "enduser.id":
		return sEnduser, false
	case "aws.xray.annotations":
		return sAnnotations, false
	case "rpc.system.name": // semconv 1.39+ (otelaws v0.67+)
		return sRPCSystem, false
	case "rpc.system":
		return sRPCSystem, true
	case "rpc.response.status_code":
		return sRPCRespCode, false
	case "error.type":
		return sErrorType, false
	case "exception.type": // the AWS SDK's own tracing records errors as span attributes
		return sErrorType, true
	case "exception.message":
		return sExcMessage, false
	case "api.error_code": // the AWS SDK's own tracing: the AWS error code
		return sRPCRespCode, true
	case "api.error_fault":
		return sAPIFault, false
	case "messaging.system":
		return sMsgSystem, false
	case "rpc.service":
		return sRPCService, false
	case "rpc.method":
		return sRPCMethod, false
	case "rpc.grpc.status_code":
		return sGRPCStatus, false
	case "peer.service":
		return sPeerService, false
	case "aws.remote.service":
		return sAWSRemoteSvc, false
	case "aws.local.service":
		return sAWSLocalSvc, false
	case "aws.service":
		return sAWSService, false
	case "aws.span.kind":
		return sAWSSpanKind, false
	case "aws.operation":
		return sAWSOperation, false
	case "aws.account_id":
		return sAWSAccount, false
	case "aws.region":
		return sAWSRegion, false
	case "aws.request_id":
		return sAWSRequestID, false
	case "aws.requestId":
		return sAWSRequestID, true
	case "aws.queue_url":
		return sAWSQueueURL, false
	case "aws.queue.url", "aws.sqs.queue.url", "messaging.url":
		return sAWSQueueURL, true
	case "aws.table_name":
		return sAWSTable, false
	case "aws.table.name", "aws.dynamodb.table_names":
		return sAWSTable, true
	case "aws.s3.bucket":
		return sAWSBucket, false
	case "aws.bucket_name":
		return sAWSBucket, true
	case "aws.s3.key":
		return sAWSKey, false
	case "aws.sns.topic.arn":
		return sAWSTopic, false
	case "aws.topic_arn":
		return sAWSTopic, true
	case "aws.kinesis.stream_name":
		return sAWSStream, false
	case "aws.stream_name":
		return sAWSStream, true
	case "aws.function_name":
		return sAWSFunction, false
	case "aws.retries":
		return sAWSRetries, false
	case "faas.invoked_name":
		return sFaaSInvoked, false
	case "http.request.resend_count":
		return sResendCount, false
	case "db.system.name":
		return sDBSystem, false
	case "db.system":
		return sDBSystem, true
	case "db.namespace":
		return sDBName, false
	case "db.name":
		return sDBName, true
	case "db.query.text":
		return sDBStatement, false
	case "db.statement":
		return sDBStatement, true
	case "db.user":
		return sDBUser, false
	case "db.connection_string":
		return sDBConn, false
	case "db.operation.name":
		return sDBOperation, false
	}
	return sNone, false
}

// sqlSystems are db.system values that get an X-Ray sql block.
func isSQLSystem(s string) bool {
	switch s {
	case "db2", "derby", "hive", "mariadb", "mssql", "mysql", "oracle", "postgresql",
		"sqlite", "teradata", "other_sql", "microsoft.sql_server", "ibm.db2", "oracle.db", "trino", "h2", "hsqldb", "cockroachdb":
		return true
	}
	return false
}

// view.init keeps a uint64 bit set of slots.
const _ = uint(63 - nSlots)
