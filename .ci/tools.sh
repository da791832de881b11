#!/usr/bin/env bash
# Command-line tools the tests drive (Debian packages): wrk, the HTTP load generator of
# bench/service.py, whose harness tests/api/test_load_bench.py checks. Idempotent.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
    echo "tools: wrk already installed"
    exit 0
fi
source "$(dirname "$0")/apt.sh"
apt_install wrk
echo "tools: $(wrk --version 2>&1 | head -n 1)"
