#!/usr/bin/env bash
# Per-request comparison with a fresh process per measurement
# (docs/BENCHMARKS.md, "HTTP, per request"): builds the bench test binary
# once, then runs every variant of one benchmark in its own process for a
# fixed number of requests, the variant order rotating each round, and
# prints per variant the median ns/op and cpu-ns/op (min–max) and, against
# the reference variant, the median of the within-round ratios.
#   bench/perreq.sh                       # HTTP, 8 rounds of 60000 requests
#   bench/perreq.sh grpc 6 40000          # gRPC unary, 6 rounds of 40000 RPCs
# In-process `-count N` runs let one variant's garbage and stand-in
# backlog land on the next; a process per measurement does not.
set -euo pipefail
cd "$(dirname "$0")"
kind=${1:-http} rounds=${2:-8} n=${3:-60000}
case $kind in
  http) bench=BenchmarkHTTPServer ref=otelhttp-otlp ;;
  grpc) bench=BenchmarkGRPCServerHandler ref=otelgrpc-otlp ;;
  *) echo "usage: $0 [http|grpc] [rounds] [requests]" >&2; exit 2 ;;
esac
variants=(bare "$ref" xray-sdk o11y-daemon o11y-otlp)
bin=$(mktemp -d)/bench.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" .
out=$(dirname "$bin")/runs.txt
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < ${#variants[@]}; k++)); do
    v=${variants[$(((r + k) % ${#variants[@]}))]}
    "$bin" -test.run '^$' -test.bench "$bench/$v\$" -test.benchtime "${n}x" -test.benchmem |
      awk -v r="$r" '/^Benchmark/ { print r, $0 }' >>"$out"
  done
done
echo "$bench: $rounds rounds, $n requests per process, $(nproc) CPUs, $(go env GOVERSION), $(date -u '+%Y-%m-%d %H:%M UTC')"
awk -v ref="$ref" '
  function med(a, k,   i, j, t, m) { # a[1..k], sorted in place
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    m = int((k + 1) / 2); return (k % 2) ? a[m] : (a[m] + a[m+1]) / 2
  }
  {
    split($2, p, "/"); v = p[2]; sub(/-[0-9]+$/, "", v)
    for (i = 3; i < NF; i++) {
      if ($(i+1) == "ns/op") ns[v, $1] = $i
      if ($(i+1) == "cpu-ns/op") cpu[v, $1] = $i
      if ($(i+1) == "B/op") bop[v] = $i
      if ($(i+1) == "allocs/op") al[v] = $i
    }
    if (!(v in seen)) { seen[v] = 1; order[++nv] = v }
    rounds[$1] = 1
  }
  END {
    printf "%-15s %9s %9s %17s %7s %7s %16s %16s\n", "variant", "ns/op", "cpu-ns/op", "cpu min-max", "B/op", "allocs", "ns vs " ref, "cpu vs " ref
    for (x = 1; x <= nv; x++) {
      v = order[x]; k = 0; kr = 0; lo = 1e18; hi = 0
      for (r in rounds) if ((v, r) in ns) {
        k++; a[k] = ns[v, r]; b[k] = cpu[v, r]; c = cpu[v, r] + 0
        if (c < lo) lo = c; if (c > hi) hi = c
        if ((ref, r) in ns) { kr++; rn[kr] = ns[v, r] / ns[ref, r]; rc[kr] = cpu[v, r] / cpu[ref, r] }
      }
      printf "%-15s %9.0f %9.0f %8.0f-%-8.0f %7s %7s %16.2f %16.2f\n", v, med(a, k), med(b, k), lo, hi, bop[v], al[v], med(rn, kr), med(rc, kr)
    }
  }' "$out"
