// Command ecs is the orders example service packaged for Amazon ECS (Fargate).
// README.md in this directory has the image build and the CloudFormation
// deploy commands.
//
// The service itself lives in examples/internal/orders; this main only runs
// it, so the ecs and apprunner images carry the same code.
package main

import (
	"os"

	"github.com/o11y-go/o11y/examples/internal/orders"
)

func main() {
	os.Exit(orders.Main(os.Args[1:], os.Stderr))
}
