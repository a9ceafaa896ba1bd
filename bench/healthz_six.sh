#!/usr/bin/env bash
# The ceiling of bench/login_once.sh: six curl processes against /healthz.
set -euo pipefail
for _ in 1 2 3 4 5 6; do
    curl -s -o /dev/null "$BENCH_BASE/healthz"
done
