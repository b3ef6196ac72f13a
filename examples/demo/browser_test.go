package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/o11y-go/o11y/internal/console"
)

// With O11Y_SCREENSHOTS=1, TestConsoleInBrowser writes its screenshots to
// docs/ (console-map.png, console-trace.png, console-metrics.png).
var screenshots = os.Getenv("O11Y_SCREENSHOTS") == "1"

const hostileName = `<img src=x onerror=alert(1)>`

// chromium finds Debian's chromium. In CI (CI=true) a missing browser fails
// the test; locally it skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI must install it (.ci/run does: apt-get install -y chromium)")
	}
	t.Skip("chromium not installed (apt-get install -y chromium); the browser test runs in CI")
	return ""
}

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// A script dialog means wire data was executed: fail.
	err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			t.Errorf("the page opened a %s dialog: %q (wire data ran as script)", d.Type, d.Message)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// TestConsoleInBrowser runs the demo with its console, waits for traffic,
// and checks the UI in headless Chromium: the map, an annotation filter,
// a trace with its subsegments and log lines, a metric chart, and that a
// hostile segment name stays text.
func TestConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo and a browser")
	}
	bctx0 := newBrowser(t)

	ready := make(chan *demoConsole, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Options{RPS: 25, FailPercent: 10, Namespace: "o11y-demo-test", Console: "127.0.0.1:0",
			consoleReady: func(c *demoConsole) { ready <- c }}, io.Discard, io.Discard)
		done <- err
	}()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	}()
	var c *demoConsole
	select {
	case c = <-ready:
	case err := <-done:
		t.Fatalf("demo ended early: %v", err)
	}

	// A hostile segment, as anyone on loopback could send.
	conn, err := net.Dial("udp", c.Addr("xray"))
	if err != nil {
		t.Fatal(err)
	}
	hostileDoc := `{"name":"` + jsonEsc(hostileName) + `","id":"00000000000000aa","trace_id":"1-` + hexNow() + `-0000000000000000000000aa","start_time":` + nowSec() + `,"end_time":` + nowSec() +
		`,"annotations":{"note":"` + jsonEsc(`<script>alert(2)</script>`) + `"}}`
	_, _ = conn.Write([]byte("{\"format\": \"json\", \"version\": 1}\n" + hostileDoc))
	conn.Close()

	// Wait for enough traffic: checkouts through all three services with
	// logs, the hostile trace, and request metrics of all three services.
	all3, _ := console.ParseFilter(`service("gateway") AND service("orders") AND service("inventory") AND annotation.order_id = "20000"`)
	hostile, _ := console.ParseFilter(`service("` + jsonEsc(hostileName) + `")`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := c.Store().Traces(all3, 0, 1).Matched == 1 && c.Store().Traces(hostile, 0, 1).Matched == 1 && c.Store().Len() >= 20
		if ok {
			n := 0
			for _, s := range metricsSeries(c) {
				if s == "Latency" {
					n++
				}
			}
			ok = n >= 3
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not enough demo traffic reached the console: %v", c.Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if screenshots {
		time.Sleep(30 * time.Second) // a few metric buckets for the pictures
	}
	bctx, bcancel := context.WithTimeout(bctx0, 40*time.Second) // bounds every page action below
	defer bcancel()
	checkout := c.Store().Traces(all3, 0, 1).Traces[0].ID
	detail, _ := c.Store().Trace(checkout)
	url := c.URL()

	t.Run("map", func(t *testing.T) {
		do(t, bctx, chromedp.Navigate(url+"/#/map"), chromedp.WaitVisible(chromedp.CSS(`g.node[data-name="inventory"]`)))
		nodes := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("g.node")).map(g => g.dataset.name)`)
		edges := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("path.edge")).map(e => e.dataset.from + " -> " + e.dataset.to)`)
		for _, n := range []string{"Client", "gateway", "orders", "inventory"} {
			if !slices.Contains(nodes, n) {
				t.Errorf("map nodes %q lack %s", nodes, n)
			}
		}
		for _, e := range []string{"Client -> gateway", "gateway -> orders", "orders -> inventory"} {
			if !slices.Contains(edges, e) {
				t.Errorf("map edges %q lack %s", edges, e)
			}
		}
		shoot(t, bctx, "console-map.png")
	})

	t.Run("hostile name stays text", func(t *testing.T) {
		do(t, bctx, chromedp.Navigate(url+"/#/map"), chromedp.WaitVisible(chromedp.CSS(`g.node[data-name="gateway"]`)))
		names := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("g.node text.name")).map(t => t.textContent)`)
		if !slices.Contains(names, hostileName) {
			t.Errorf("map node names %q lack the literal %s", names, hostileName)
		}
		if n := eval[int](t, bctx, `document.querySelectorAll("img, script:not([src])").length`); n != 0 {
			t.Errorf("%d injected elements on the map", n)
		}
		do(t, bctx, chromedp.Navigate(url+"/#/traces?filter="+urlQuery(`service("`+jsonEsc(hostileName)+`")`)),
			chromedp.WaitVisible(chromedp.CSS(`#traces tbody tr`)))
		if got := text(t, bctx, `#traces tbody tr td:nth-child(3)`); got != hostileName {
			t.Errorf("trace list shows %q, want the literal name", got)
		}
		do(t, bctx, chromedp.Click(chromedp.CSS(`#traces tbody tr a`)), chromedp.WaitVisible(chromedp.CSS(`#segment-detail .block-annotations`)))
		if ann := text(t, bctx, `#segment-detail .block-annotations`); !strings.Contains(ann, "<script>alert(2)</script>") {
			t.Errorf("annotations shown as %q", ann)
		}
		if n := eval[int](t, bctx, `document.querySelectorAll("img, script:not([src])").length`); n != 0 {
			t.Errorf("%d injected elements in the trace view", n)
		}
	})

	t.Run("filter by annotation", func(t *testing.T) {
		do(t, bctx, chromedp.Navigate(url+"/#/traces"), chromedp.WaitVisible(chromedp.CSS(`#filter`)),
			chromedp.SendKeys(chromedp.CSS(`#filter`), `annotation.order_id = "20000"`),
			chromedp.Click(chromedp.CSS(`#apply`)),
			chromedp.WaitVisible(chromedp.CSS(`#traces tbody tr`)))
		ids := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("#traces tbody tr")).map(r => r.dataset.trace)`)
		if len(ids) != 1 || ids[0] != checkout {
			t.Errorf("filter found %q, want [%s]", ids, checkout)
		}
		do(t, bctx, chromedp.SetValue(chromedp.CSS(`#filter`), `annotation.order_id = `),
			chromedp.Click(chromedp.CSS(`#apply`)),
			chromedp.WaitVisible(chromedp.CSS(`#filter-error`)))
		if msg := text(t, bctx, `#filter-error`); !strings.Contains(msg, "position") {
			t.Errorf("bad expression message %q has no position", msg)
		}
	})

	t.Run("trace with subsegments and logs", func(t *testing.T) {
		do(t, bctx, chromedp.Navigate(url+"/#/trace/"+checkout), chromedp.WaitVisible(chromedp.CSS(`#waterfall .wf-row[data-name="charge-card"]`)))
		rows := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("#waterfall .wf-row")).map(r => r.dataset.name)`)
		for _, n := range []string{"gateway", "orders", "charge-card", "inventory"} {
			if !slices.Contains(rows, n) {
				t.Errorf("timeline rows %q lack %s", rows, n)
			}
		}
		if logs := eval[int](t, bctx, `document.querySelectorAll("#logs .log").length`); logs == 0 || logs != len(detail.Logs) {
			t.Errorf("%d log lines shown, the store has %d for the trace", logs, len(detail.Logs))
		}
		if logText := text(t, bctx, `#logs`); !strings.Contains(logText, "card charged") {
			t.Errorf("logs panel lacks the orders service's %q line:\n%s", "card charged", logText)
		}
		shoot(t, bctx, "console-trace.png")
	})

	t.Run("metric chart", func(t *testing.T) {
		do(t, bctx, chromedp.Navigate(url+"/#/metrics"), chromedp.WaitVisible(chromedp.CSS(`svg.chart polyline[data-series="p50"]`)))
		points := eval[string](t, bctx, `document.querySelector('svg.chart polyline[data-series="p50"]').getAttribute("points")`)
		if strings.Count(points, ",") < 1 {
			t.Errorf("latency chart has no data: points=%q", points)
		}
		exemplars := eval[[]string](t, bctx, `Array.from(document.querySelectorAll("a.exemplar")).map(a => a.getAttribute("href"))`)
		if len(exemplars) == 0 || !strings.HasPrefix(exemplars[0], "#/trace/1-") {
			t.Errorf("no exemplar links to a trace: %q", exemplars)
		}
		shoot(t, bctx, "console-metrics.png")
	})
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return v
}

func metricsSeries(c *demoConsole) []string {
	req, _ := http0(c.URL() + "/api/metrics")
	var names []string
	for _, part := range strings.Split(req, `"name":"`)[1:] {
		names = append(names, part[:strings.IndexByte(part, '"')])
	}
	return names
}

// shoot saves a PNG of the page into docs/ with -screenshots.
func shoot(t *testing.T, ctx context.Context, name string) {
	if !screenshots {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", name), buf, 0o644); err != nil {
		t.Error(err)
	}
}

func jsonEsc(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
