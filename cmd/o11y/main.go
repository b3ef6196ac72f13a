// Command o11y is the SDK's companion tool.
//
//	o11y console [flags] [-- command args…]
//
// runs the local console: it receives what a deployment sends to AWS (X-Ray
// daemon datagrams and sampling requests, OTLP, EMF, JSON log lines) and
// shows the service map, traces with their logs, and metrics in a browser
// at http://127.0.0.1:8900. See docs/CONSOLE.md.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/o11y-go/o11y/internal/console"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: o11y console [flags] [-- command args…]   (o11y console -h for the flags)")
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "console":
		return console.Main(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "o11y: unknown command %q (known: console)\n", args[0])
	return 2
}
