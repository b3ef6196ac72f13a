package console

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

// Main runs `o11y console [flags] [-- command args…]` and returns the exit
// code: the child's when there is one, else 0 after an interrupt.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("o11y console", flag.ContinueOnError)
	fs.SetOutput(stderr)
	xray := fs.String("xray", DefaultXRayAddr, "X-Ray daemon address: UDP segments and the TCP sampling proxy (host:port, - for off)")
	grpcAddr := fs.String("otlp-grpc", DefaultOTLPGRPCAddr, "OTLP/gRPC trace receiver (host:port, - for off)")
	httpOTLP := fs.String("otlp-http", DefaultOTLPHTTPAddr, "OTLP/HTTP trace receiver (host:port, - for off)")
	emf := fs.String("emf", DefaultEMFAddr, "EMF receiver on the CloudWatch agent port, TCP and UDP (host:port, - for off)")
	ui := fs.String("http", DefaultHTTPAddr, "web UI (host:port)")
	maxTraces := fs.Int("traces", DefaultMaxTraces, "how many traces to keep (the oldest are dropped)")
	indexed := fs.String("indexed-attributes", "", "comma-separated OTLP span attribute keys to show as X-Ray annotations (as the collector's awsxray exporter)")
	rulesFile := fs.String("sampling-rules", "", "X-Ray local sampling rules JSON served by the sampling proxy (default: X-Ray's default rule, 1/s then 5 %)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: o11y console [flags] [-- command args…]

Receives traces (X-Ray daemon UDP, OTLP), EMF metrics and JSON log lines on
loopback and shows the service map, traces with their logs, and metrics at
http://127.0.0.1:8900. With "-- command", runs the command with
AWS_XRAY_DAEMON_ADDRESS, AWS_EMF_AGENT_ENDPOINT and OTEL_EXPORTER_OTLP_ENDPOINT
pointed at the console and reads its stdout (passed through); without it,
reads stdin the same way.

The console has no authentication: anyone who can reach its ports can read
and send telemetry. Keep the default loopback addresses unless you mean it.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) > 0 && cmdArgs[0] == "--" {
		cmdArgs = cmdArgs[1:]
	}
	off := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	if off(*ui) == "" {
		fmt.Fprintln(stderr, "o11y console: -http cannot be off")
		return 2
	}
	if *maxTraces <= 0 {
		fmt.Fprintln(stderr, "o11y console: -traces must be positive")
		return 2
	}
	opts := Options{XRayAddr: off(*xray), OTLPGRPCAddr: off(*grpcAddr), OTLPHTTPAddr: off(*httpOTLP),
		EMFAddr: off(*emf), HTTPAddr: *ui, MaxTraces: *maxTraces}
	for _, k := range strings.Split(*indexed, ",") {
		if k = strings.TrimSpace(k); k != "" {
			opts.IndexedAttributes = append(opts.IndexedAttributes, k)
		}
	}
	if *rulesFile != "" {
		b, err := os.ReadFile(*rulesFile)
		if err != nil {
			fmt.Fprintln(stderr, "o11y console:", err)
			return 2
		}
		opts.SamplingRules = b
	}
	c, err := Start(opts)
	if err != nil {
		fmt.Fprintln(stderr, "o11y console:", err)
		return 1
	}
	defer c.Close()
	c.Banner(stderr)

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	if len(cmdArgs) == 0 {
		go func() { _ = c.ReadLines(stdin, nil) }()
		<-sigs
		fmt.Fprintln(stderr, "o11y console: stopping")
		return 0
	}
	return c.runChild(cmdArgs, stdin, stdout, stderr, sigs)
}

// Banner prints where the console listens.
func (c *Console) Banner(w io.Writer) {
	fmt.Fprintf(w, "o11y console: open %s   (no authentication; loopback only unless you chose other addresses)\n", c.URL())
	for _, r := range []struct{ name, what string }{
		{"xray", "X-Ray daemon (UDP segments, TCP sampling)"},
		{"otlp-grpc", "OTLP/gRPC"},
		{"otlp-http", "OTLP/HTTP"},
		{"emf", "EMF (TCP and UDP)"},
	} {
		if a := c.Addr(r.name); a != "" {
			fmt.Fprintf(w, "  %-44s %s\n", r.what, a)
		}
	}
}

// runChild runs the command with the console's environment, passes its
// stdout through (ingesting every line), forwards signals and returns its
// exit code.
func (c *Console) runChild(args []string, stdin io.Reader, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = mergeEnv(os.Environ(), c.Env())
	cmd.Stdin = stdin
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(stderr, "o11y console:", err)
		return 1
	}
	// Written before Start: afterwards the child's stderr is copied to
	// stderr on another goroutine.
	fmt.Fprintf(stderr, "o11y console: running %s\n", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "o11y console:", err)
		return 127
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		_ = c.ReadLines(out, stdout)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-ctx.Done():
				return
			}
		}
	}()
	<-read // the child closed its stdout (normally: it exited)
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if st, ok := ee.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			return 128 + int(st.Signal())
		}
		return ee.ExitCode()
	default:
		fmt.Fprintln(stderr, "o11y console:", err)
		return 1
	}
}

// mergeEnv returns base with the variables of set replacing those of the
// same name.
func mergeEnv(base, set []string) []string {
	names := map[string]bool{}
	for _, kv := range set {
		names[kv[:strings.IndexByte(kv, '=')]] = true
	}
	out := make([]string, 0, len(base)+len(set))
	for _, kv := range base {
		if i := strings.IndexByte(kv, '='); i > 0 && names[kv[:i]] {
			continue
		}
		out = append(out, kv)
	}
	return append(out, set...)
}
