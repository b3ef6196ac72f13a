package xraysegment

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/sdk/resource"
)

// Config controls how spans are translated into segment documents. The zero
// value works: segments are named after the resource's service.name.
type Config struct {
	// SegmentName overrides the name of every segment (AWS_XRAY_TRACING_NAME).
	// Subsegments keep their own names.
	SegmentName string
	// IndexedAttributes are span attribute keys always written as annotations
	// (searchable in X-Ray) rather than metadata. Keys listed per span in the
	// string-slice attribute "aws.xray.annotations" are indexed too.
	IndexedAttributes []string
	// LogGroupNames are added to each segment's aws.cloudwatch_logs, after the
	// groups named by the resource (aws.log.group.arns / aws.log.group.names),
	// so the X-Ray console can find the trace's log lines.
	LogGroupNames []string
	// DisableResourceMetadata leaves resource attributes out of segment metadata
	// (by default each segment carries metadata.default["otel.resource.<key>"]).
	DisableResourceMetadata bool
}

// Limits applied while encoding. They keep one document far below the 64 KiB
// segment quota in the common case; the one-datagram limit is enforced by trimming.
const (
	maxNameBytes       = 200 // X-Ray name limit
	maxStringBytes     = 250 // X-Ray default string limit
	maxMessageBytes    = 2048
	maxMetaValueBytes  = 1024
	maxMetaEntries     = 64
	maxMetaSliceItems  = 32
	maxAnnotations     = 50 // X-Ray indexes 50 annotations per trace
	maxLinks           = 20 // X-Ray links per segment
	maxLinkAttrs       = 8
	maxExceptions      = 8
	maxStackFrames     = 32
	maxResourceEntries = 64
	metaSoftBudget     = 48 << 10 // stop adding metadata entries past this document size
	maxCachedResources = 64
)

// Encoder translates ended OpenTelemetry spans into X-Ray segment documents.
// Work that depends only on the span's resource (names, origin, aws blocks,
// resource metadata) is done once per *resource.Resource and cached. An
// Encoder is safe for concurrent use; a nil *Encoder encodes with the zero
// Config.
//
// The rules follow the OpenTelemetry collector's X-Ray exporter, with the
// corrections this SDK needs:
//
//   - SERVER and CONSUMER spans, and spans without a parent, become
//     segments; every other span becomes an independent subsegment
//     ("type":"subsegment", "parent_id" = parent span id) with namespace
//     "aws" for AWS SDK calls (rpc.system.name or rpc.system = aws-api),
//     "remote" for CLIENT and PRODUCER spans.
//   - AWS SDK calls (the SDK's own tracing through smithyoteltracing, as
//     middleware/awsmw sets it up, and otelaws of both key generations) are
//     named after the service and carry aws.operation, region, request_id,
//     retries and the resource fields (table, queue, bucket, topic,
//     function, stream); the SDK's INTERNAL phase spans get no document
//     ([Omitted]), so each call is one subsegment; see docs/AWS-CALLS.md.
//     SQL spans (db.system.name a SQL system, e.g. from
//     otelsql) get a sql block.
//   - Segment names: Config.SegmentName, else aws.local.service, else the
//     resource's service.name. Subsegments are named after the peer
//     (peer.service, aws.remote.service, the AWS service, db.name@host,
//     server.address, rpc.service), else the span name; all names are
//     sanitised to X-Ray's character set and cut to 200 bytes.
//   - http from both HTTP semantic-convention generations; fault, error and
//     throttle from the HTTP status, else the gRPC status code, else the
//     span status. cause.exceptions come from "exception" events, with Go
//     stack traces parsed into frames.
//   - Annotations are the attributes named in Config.IndexedAttributes or in
//     the span's [AnnotationsKey] attribute (scalars only, keys reduced to
//     [A-Za-z0-9_], at most 50); every other attribute goes to
//     metadata.default, except [MetadataPrefix]<ns> attributes holding a JSON
//     object, which become metadata.<ns>.
//   - From the resource: origin from cloud.platform, aws.ecs / aws.ec2 /
//     aws.eks, aws.xray SDK info, aws.cloudwatch_logs (log groups from the
//     resource plus Config.LogGroupNames), service.version.
type Encoder struct {
	cfg     Config
	indexed map[string]struct{}
	// indexedLens has bit min(len(k), 63) set for every indexed key k: most
	// attribute keys are ruled out by their length, without a map lookup.
	indexedLens uint64

	cache   sync.Map                // *resource.Resource -> *resInfo
	last    atomic.Pointer[resInfo] // most recently used cached entry
	ncached atomic.Int32
	trimmed atomic.Uint64

	idSource func() uint64 // exception ids; nil = random (tests set it)
}

// NewEncoder returns an Encoder for cfg. cfg is copied.
func NewEncoder(cfg Config) *Encoder {
	e := &Encoder{cfg: cfg}
	e.cfg.IndexedAttributes = append([]string(nil), cfg.IndexedAttributes...)
	e.cfg.LogGroupNames = append([]string(nil), cfg.LogGroupNames...)
	if len(cfg.IndexedAttributes) > 0 {
		e.indexed = make(map[string]struct{}, len(cfg.IndexedAttributes))
		for _, k := range cfg.IndexedAttributes {
			e.indexed[k] = struct{}{}
			e.indexedLens |= 1 << min(len(k), 63)
		}
	}
	return e
}

var zeroEncoder = NewEncoder(Config{})

// Trimmed reports how many documents had to be trimmed to fit the size limit.
func (e *Encoder) Trimmed() uint64 {
	if e == nil {
		return 0
	}
	return e.trimmed.Load()
}

// resourceInfo returns the cached per-resource precomputation.
// Processes usually have one resource, so the last entry used is checked
// before the map.
func (e *Encoder) resourceInfo(r *resource.Resource) *resInfo {
	if ri := e.last.Load(); ri != nil && ri.res == r {
		return ri
	}
	if v, ok := e.cache.Load(r); ok {
		ri := v.(*resInfo)
		e.last.Store(ri)
		return ri
	}
	ri := e.buildResInfo(r)
	ri.res = r
	if e.ncached.Load() < maxCachedResources {
		if v, loaded := e.cache.LoadOrStore(r, ri); !loaded {
			e.ncached.Add(1)
			e.last.Store(ri)
		} else {
			ri = v.(*resInfo)
		}
	}
	return ri
}
