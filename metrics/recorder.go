package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/o11y-go/o11y/internal/emfspec"
	"github.com/o11y-go/o11y/internal/report"
)

// Flags are the X-Ray style outcome flags of one request.
type Flags uint8

const (
	// FlagError marks a client error (4xx, client-caused gRPC codes).
	FlagError Flags = 1 << iota
	// FlagThrottle marks throttling (429, ResourceExhausted).
	FlagThrottle
	// FlagFault marks a server error (5xx, server-side gRPC codes, panics).
	FlagFault
)

// Defaults of [Options].
const (
	DefaultFlushInterval = 60 * time.Second
	MinFlushInterval     = time.Second
	DefaultMaxOperations = 200
	// OtherOperation is the Operation value that names past the
	// MaxOperations limit are folded into.
	OtherOperation = "other"
)

// Names of the request metrics, dimensions and properties written by the
// aggregated recorder.
const (
	MetricLatency = "Latency" // Milliseconds, Values/Counts distribution
	MetricError   = "Error"   // Count, Values [0,1]: Average is the error rate
	MetricFault   = "Fault"   // Count, Values [0,1]: Average is the fault rate

	DimService     = "Service"
	DimOperation   = "Operation"
	DimEnvironment = "Environment"
	DimVersion     = "Version"

	PropServiceType  = "ServiceType"
	PropSlowestTrace = "slowest_xray_trace_id" // X-Ray id of the slowest request of the interval
	PropSlowestMs    = "slowest_latency_ms"    // its latency
	PropFaultTrace   = "fault_xray_trace_id"   // X-Ray id of one faulting request
	PropTraceID      = "xray_trace_id"         // per-event documents
	PropRequestID    = "request_id"            // per-event documents
)

// Options configures a Recorder. The zero value works: documents go to
// stdout every minute under the namespace "o11y".
type Options struct {
	// Namespace is the CloudWatch namespace (AWS_EMF_NAMESPACE). Default:
	// the service name, else "o11y". Invalid characters are replaced.
	Namespace string
	// ServiceName is the Service dimension (AWS_EMF_SERVICE_NAME). Default
	// "unknown_service".
	ServiceName string
	// ServiceType is written as the ServiceType property, not a dimension
	// (AWS_EMF_SERVICE_TYPE).
	ServiceType string
	// Environment and Version are written as properties, and as the
	// dimension sets [Service, Environment] / [Service, Version] when
	// DimensionEnvironment / DimensionVersion are set.
	Environment string
	Version     string
	// FlushInterval is how often aggregates are written: default 60 s,
	// at least 1 s. Flushes are aligned to multiples of the interval in wall
	// time, so each document covers one CloudWatch period. A negative value
	// disables the background flusher (call Flush yourself).
	FlushInterval time.Duration
	// Writer receives EMF lines (one Write per line). The SDK passes the
	// shared line writer so logs and metrics never interleave. Default
	// os.Stdout. Ignored when AgentEndpoint is set.
	Writer io.Writer
	// AgentEndpoint sends documents to a CloudWatch agent
	// (AWS_EMF_AGENT_ENDPOINT: "tcp://host:port" or "udp://host:port").
	AgentEndpoint string
	// LogGroupName and LogStreamName route agent documents
	// (AWS_EMF_LOG_GROUP_NAME, AWS_EMF_LOG_STREAM_NAME). LogGroupName
	// defaults to "<service>-metrics". Only written with AgentEndpoint.
	LogGroupName  string
	LogStreamName string
	// DimensionEnvironment and DimensionVersion add the dimension sets
	// [Service, Environment] and [Service, Version]; each multiplies the
	// number of custom metrics (and the bill).
	DimensionEnvironment bool
	DimensionVersion     bool
	// HighResolution publishes request metrics with StorageResolution 1.
	// Pair it with a FlushInterval below 60 s.
	HighResolution bool
	// MaxOperations bounds distinct Operation values (default 200); later
	// names are folded into "other", reported once.
	MaxOperations int
	// ErrorHandler receives the recorder's own trouble (sanitised input,
	// sink failures), rate-limited per kind. Nil discards.
	ErrorHandler func(error)
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time

	// dial connects to the agent (tests); default net.DialTimeout.
	dial dialFunc
}

// Recorder aggregates request metrics and flushes EMF documents. All methods
// are safe for concurrent use and on a nil *Recorder.
type Recorder struct {
	opts      Options
	namespace string
	service   string
	now       func() time.Time
	rep       *report.Reporter
	sink      sink
	logGroup  string
	logStream string
	sets      [][]string

	epoch atomic.Uint32 // selects the slot Observe writes to

	opsMu    sync.Mutex
	ops      sync.Map // string -> *Operation (including folded names)
	list     atomic.Pointer[[]*Operation]
	folded   int
	other    *Operation
	interval atomic.Int64 // start of the current interval, unix ns

	flushMu sync.Mutex
	enc     *encoder
	doc     document
	hv, hc  []float64
	pending pendingLines

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	closed   atomic.Bool
}

// New returns a Recorder and starts its background flusher.
func New(opts Options) *Recorder {
	r := &Recorder{opts: opts, now: opts.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if r.now == nil {
		r.now = time.Now
	}
	r.rep = report.New(opts.ErrorHandler, 0)
	r.enc = newEncoder(r.rep)
	svc, changed := sanitizeDimValue(opts.ServiceName)
	if opts.ServiceName == "" {
		svc, changed = "unknown_service", false
	}
	if changed {
		r.rep.Report("metrics.service", fmt.Errorf("metrics: service name %q sanitised to %q", truncForReport(opts.ServiceName), svc))
	}
	r.service = svc
	ns, changed := emfspec.SanitizeNamespace(opts.Namespace, opts.ServiceName)
	if changed && opts.Namespace != "" {
		r.rep.Report("metrics.emf.namespace", fmt.Errorf("metrics: namespace %q rewritten to %q", truncForReport(opts.Namespace), ns))
	}
	r.namespace = ns
	if r.opts.MaxOperations <= 0 {
		r.opts.MaxOperations = DefaultMaxOperations
	}
	r.sets = [][]string{{DimService, DimOperation}, {DimService}}
	if opts.DimensionEnvironment && opts.Environment != "" {
		r.sets = append(r.sets, []string{DimService, DimEnvironment})
	}
	if opts.DimensionVersion && opts.Version != "" {
		r.sets = append(r.sets, []string{DimService, DimVersion})
	}
	if opts.AgentEndpoint != "" {
		as, err := newAgentSinkDial(opts.AgentEndpoint, r.rep, opts.dial)
		if err != nil {
			r.rep.Report("metrics.agent.endpoint", err)
		} else {
			r.sink = as
			r.logGroup = opts.LogGroupName
			if r.logGroup == "" {
				r.logGroup = r.service + "-metrics"
			}
			r.logStream = opts.LogStreamName
		}
	}
	if r.sink == nil {
		w := opts.Writer
		if w == nil {
			w = os.Stdout
		}
		r.sink = newWriterSink(w)
	}
	r.other = r.newOperation(OtherOperation)
	empty := []*Operation{}
	r.list.Store(&empty)
	r.interval.Store(r.now().UnixNano())

	if opts.FlushInterval < 0 {
		close(r.done)
		return r
	}
	if r.opts.FlushInterval == 0 {
		r.opts.FlushInterval = DefaultFlushInterval
	}
	if r.opts.FlushInterval < MinFlushInterval {
		r.opts.FlushInterval = MinFlushInterval
	}
	go r.loop()
	return r
}

func (r *Recorder) loop() {
	defer close(r.done)
	iv := r.opts.FlushInterval
	for {
		now := r.now()
		next := now.Truncate(iv).Add(iv)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-r.stop:
			t.Stop()
			return
		case <-t.C:
			_ = r.Flush(context.Background())
		}
	}
}

// Operation returns the handle for one operation name (a span name such as
// "GET /orders/{id}"). Handles are cached; past MaxOperations distinct names
// every new name gets the shared "other" handle. A nil Recorder returns nil.
func (r *Recorder) Operation(name string) *Operation {
	if r == nil {
		return nil
	}
	if op, ok := r.ops.Load(name); ok {
		return op.(*Operation)
	}
	r.opsMu.Lock()
	defer r.opsMu.Unlock()
	if op, ok := r.ops.Load(name); ok {
		return op.(*Operation)
	}
	list := *r.list.Load()
	if len(list) >= r.opts.MaxOperations {
		if r.folded == 0 {
			r.rep.Report("metrics.cardinality", fmt.Errorf("metrics: more than %d operations; %q and later names are recorded as %q", r.opts.MaxOperations, truncForReport(name), OtherOperation))
		}
		// Remember folded names (bounded) so repeat lookups stay lock-free.
		if r.folded < 4*r.opts.MaxOperations {
			r.folded++
			r.ops.Store(name, r.other)
		}
		return r.other
	}
	op := r.newOperation(name)
	nl := make([]*Operation, len(list), len(list)+1)
	copy(nl, list)
	nl = append(nl, op)
	r.list.Store(&nl)
	r.ops.Store(name, op)
	return op
}

func (r *Recorder) newOperation(name string) *Operation {
	v, changed := sanitizeDimValue(name)
	if changed {
		r.rep.Report("metrics.operation", fmt.Errorf("metrics: operation name %q sanitised to %q", truncForReport(name), v))
	}
	op := &Operation{r: r, name: v}
	for i := range op.slots {
		op.slots[i].reset()
	}
	return op
}

// Operation is a resolved (service, operation) series set. Its methods are
// safe for concurrent use and on a nil *Operation.
type Operation struct {
	r     *Recorder
	name  string
	slots [2]slot
}

// slot holds one interval's aggregates. Observe writes to the slot selected
// by the recorder's epoch; Flush flips the epoch, waits for writers still in
// the old slot (inflight), then reads and resets it, so every request lands
// wholly in exactly one interval.
type slot struct {
	inflight atomic.Int64
	count    atomic.Uint64
	errors   atomic.Uint64
	faults   atomic.Uint64
	sumNs    atomic.Uint64
	minNs    atomic.Int64
	maxNs    atomic.Int64
	// Exemplars: the threshold atomics let Observe skip the context lookup
	// and the lock unless the request could become an exemplar.
	slowSampledNs atomic.Int64
	slowAnyNs     atomic.Int64
	faultQ        atomic.Uint32 // 0 none, 1 unsampled trace, 2 sampled trace
	mu            sync.Mutex
	slowID        trace.TraceID // guarded by mu
	slowIDNs      int64
	slowSampled   bool
	faultID       trace.TraceID
	buckets       [numBuckets]atomic.Uint32
}

func (s *slot) reset() {
	s.count.Store(0)
	s.errors.Store(0)
	s.faults.Store(0)
	s.sumNs.Store(0)
	s.minNs.Store(math.MaxInt64)
	s.maxNs.Store(-1)
	s.slowSampledNs.Store(-1)
	s.slowAnyNs.Store(-1)
	s.faultQ.Store(0)
	s.slowID, s.faultID, s.slowIDNs, s.slowSampled = trace.TraceID{}, trace.TraceID{}, 0, false
}

// Name returns the Operation dimension value the handle records under: the
// name given to [Recorder.Operation] as sanitised, or [OtherOperation] for
// a name past MaxOperations. The middleware names its spans with it, so span
// names and the Operation dimension always match. "" on a nil handle.
func (o *Operation) Name() string {
	if o == nil {
		return ""
	}
	return o.name
}

// Observe records one request: its latency (Latency), whether it was a
// client error (Error: FlagError or FlagThrottle) and whether it was a fault
// (Fault). It does not allocate and takes no lock except, rarely, to record
// an exemplar trace id. Safe on a nil handle; negative latencies count as 0.
func (o *Operation) Observe(ctx context.Context, latency time.Duration, flags Flags) {
	if o == nil {
		return
	}
	r := o.r
	var s *slot
	for {
		e := r.epoch.Load()
		s = &o.slots[e&1]
		s.inflight.Add(1)
		if r.epoch.Load() == e {
			break
		}
		s.inflight.Add(-1)
	}
	ns := int64(latency)
	if ns < 0 {
		ns = 0
	}
	s.buckets[bucketIndex(uint64(ns)/1000)].Add(1)
	s.count.Add(1)
	s.sumNs.Add(uint64(ns))
	if flags&(FlagError|FlagThrottle) != 0 {
		s.errors.Add(1)
	}
	for cur := s.minNs.Load(); ns < cur && !s.minNs.CompareAndSwap(cur, ns); cur = s.minNs.Load() {
	}
	for cur := s.maxNs.Load(); ns > cur && !s.maxNs.CompareAndSwap(cur, ns); cur = s.maxNs.Load() {
	}
	fault := flags&FlagFault != 0
	if fault {
		s.faults.Add(1)
	}
	if ns > s.slowSampledNs.Load() || (fault && s.faultQ.Load() < 2) {
		o.exemplar(ctx, s, ns, fault)
	}
	s.inflight.Add(-1)
}

func (o *Operation) exemplar(ctx context.Context, s *slot, ns int64, fault bool) {
	if ctx == nil {
		return
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.TraceID().IsValid() {
		return
	}
	sampled := sc.IsSampled()
	slow := ns > s.slowAnyNs.Load() || (sampled && ns > s.slowSampledNs.Load())
	q := uint32(1)
	if sampled {
		q = 2
	}
	faultBetter := fault && q > s.faultQ.Load()
	if !slow && !faultBetter {
		return
	}
	s.mu.Lock()
	if ns > s.slowAnyNs.Load() {
		s.slowAnyNs.Store(ns)
	}
	// A sampled trace beats a slower unsampled one: only sampled traces can
	// be opened in X-Ray. Unsampled ids still find the request's log lines.
	if sampled && ns > s.slowSampledNs.Load() {
		s.slowSampledNs.Store(ns)
		s.slowID, s.slowIDNs, s.slowSampled = sc.TraceID(), ns, true
	} else if !s.slowSampled && ns >= s.slowAnyNs.Load() {
		s.slowID, s.slowIDNs = sc.TraceID(), ns
	}
	if fault && q > s.faultQ.Load() {
		s.faultID = sc.TraceID()
		s.faultQ.Store(q)
	}
	s.mu.Unlock()
}

// Flush writes every pending aggregate as EMF documents (one per operation
// that saw requests, split further only when a limit requires it) and
// retries lines a failed sink kept. It returns the sink's error, if any.
func (r *Recorder) Flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	now := r.now()
	start := time.Unix(0, r.interval.Swap(now.UnixNano()))
	old := r.epoch.Add(1) - 1
	ops := *r.list.Load()
	var firstErr error
	if err := r.pending.retry(r.sink); err != nil {
		firstErr = err
	}
	emit := func(line []byte) error {
		if err := r.sink.writeLine(line); err != nil {
			r.rep.Report("metrics.sink", fmt.Errorf("metrics: writing EMF failed; keeping lines for the next flush: %w", err))
			r.pending.add(line, r.rep)
			return err
		}
		return nil
	}
	all := append(ops[:len(ops):len(ops)], r.other)
	for _, op := range all {
		s := &op.slots[old&1]
		for s.inflight.Load() != 0 {
			runtime.Gosched()
		}
		if s.count.Load() == 0 {
			continue
		}
		r.buildDoc(op, s, start)
		s.reset()
		if err := r.enc.encode(&r.doc, emit); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := r.sink.flush(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// buildDoc fills r.doc from slot s (which no writer touches now) and clears
// its buckets.
func (r *Recorder) buildDoc(op *Operation, s *slot, start time.Time) {
	d := &r.doc
	d.reset()
	d.namespace = r.namespace
	ts := start
	if iv := r.opts.FlushInterval; iv > 0 {
		ts = start.Truncate(iv)
	}
	// With manual flushing an interval can be arbitrarily old; CloudWatch
	// drops datapoints older than 14 days, so never stamp more than an hour back.
	if now := r.now(); now.Sub(ts) > time.Hour {
		ts = now
	}
	d.timestampMs = ts.UnixMilli()
	d.logGroup, d.logStream = r.logGroup, r.logStream
	d.dims = append(d.dims, field{DimService, r.service}, field{DimOperation, op.name})
	d.sets = append(d.sets, r.sets...)
	if r.opts.Environment != "" {
		if r.opts.DimensionEnvironment {
			d.dims = append(d.dims, field{DimEnvironment, r.opts.Environment})
		} else {
			d.props = append(d.props, prop{DimEnvironment, quoted(r.opts.Environment)})
		}
	}
	if r.opts.Version != "" {
		if r.opts.DimensionVersion {
			d.dims = append(d.dims, field{DimVersion, r.opts.Version})
		} else {
			d.props = append(d.props, prop{DimVersion, quoted(r.opts.Version)})
		}
	}
	if r.opts.ServiceType != "" {
		d.props = append(d.props, prop{PropServiceType, quoted(r.opts.ServiceType)})
	}
	if s.slowID.IsValid() {
		d.props = append(d.props, prop{PropSlowestTrace, quotedTraceID(s.slowID)})
		d.props = append(d.props, prop{PropSlowestMs, floatJSON(float64(s.slowIDNs) / 1e6)})
	}
	if s.faultQ.Load() > 0 && s.faultID.IsValid() {
		d.props = append(d.props, prop{PropFaultTrace, quotedTraceID(s.faultID)})
	}

	count := float64(s.count.Load())
	minMs := float64(s.minNs.Load()) / 1e6
	maxMs := float64(s.maxNs.Load()) / 1e6
	sumMs := float64(s.sumNs.Load()) / 1e6
	r.hv, r.hc = r.hv[:0], r.hc[:0]
	for i := range s.buckets {
		if s.buckets[i].Load() == 0 { // most buckets are empty; a load is cheaper than a swap
			continue
		}
		if c := s.buckets[i].Swap(0); c != 0 {
			r.hv = append(r.hv, bucketMidMs(i))
			r.hc = append(r.hc, float64(c))
		}
	}
	hv, hc := normalizeHist(r.hv, r.hc, minMs, maxMs)
	res := StandardResolution
	if r.opts.HighResolution {
		res = HighResolution
	}
	d.metrics = append(d.metrics, metricData{name: MetricLatency, unit: Milliseconds, res: res, kind: kindHist,
		hv: hv, hc: hc, min: minMs, max: maxMs, sum: sumMs})
	d.metrics = append(d.metrics, rateMetric(MetricError, res, float64(s.errors.Load()), count))
	d.metrics = append(d.metrics, rateMetric(MetricFault, res, float64(s.faults.Load()), count))
}

// rateMetric publishes k of n requests as Values [0,1] with Counts
// [n-k, k]: SampleCount is n, Sum is k and Average is the rate.
func rateMetric(name string, res Resolution, k, n float64) metricData {
	k = min(k, n)
	m := metricData{name: name, unit: Count, res: res, kind: kindHist, sum: k, min: 0, max: 0}
	if n-k > 0 {
		m.hv, m.hc = append(m.hv, 0), append(m.hc, n-k)
	} else {
		m.min = 1
	}
	if k > 0 {
		m.hv, m.hc = append(m.hv, 1), append(m.hc, k)
		m.max = 1
	}
	return m
}

// Shutdown stops the background flusher, flushes, and closes the sink
// (draining the agent queue until ctx is done).
func (r *Recorder) Shutdown(ctx context.Context) error {
	if r == nil {
		return nil
	}
	if !r.closed.CompareAndSwap(false, true) {
		return nil
	}
	r.stopOnce.Do(func() { close(r.stop) })
	select {
	case <-r.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := r.Flush(ctx)
	if cerr := r.sink.close(ctx); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// errClosed is returned by writes after Shutdown.
var errClosed = errors.New("metrics: recorder shut down")
