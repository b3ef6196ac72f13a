// Command worker is the fulfilment worker of the ECS example: a
// long-running ECS service that consumes the "order placed" messages POST
// /checkout publishes to SQS, each in a CONSUMER span continuing the
// checkout's trace. README.md one directory up has the build and deploy
// commands; the code lives in examples/internal/fulfilment.
package main

import (
	"os"

	"github.com/o11y-go/o11y/examples/internal/fulfilment"
)

func main() {
	os.Exit(fulfilment.Main(os.Args[1:], os.Stderr))
}
