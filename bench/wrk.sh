#!/usr/bin/env bash
# The wrk loopback comparison (docs/BENCHMARKS.md, "Loopback throughput"):
# every variant's server, its receiver stand-in and wrk each in their own
# process, interleaved rounds, a markdown table at the end. About 5 minutes
# with the defaults. Extra arguments go to the test binary, for example
#   bench/wrk.sh -wrk.rounds=3 -wrk.duration=5s -wrk.out=/tmp/wrk.md
#   bench/wrk.sh -wrk.variants=bare,o11y-daemon,o11y-daemon-unpaced
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v wrk >/dev/null; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q wrk
fi
exec go test -count=1 -run '^TestWrkLoopback$' -v -timeout 30m . -args -wrk "$@"
