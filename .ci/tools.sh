#!/usr/bin/env bash
# Command-line tools the tests drive (Debian packages): wrk, the HTTP load generator of
# bench/service.py, whose harness tests/api/test_load_bench.py checks; shellcheck, which
# tests/ci/test_nightly_script.py runs over docker/nightly.sh. Idempotent.
set -euo pipefail
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if ((${#missing[@]})); then
    source "$(dirname "$0")/apt.sh"
    apt_install "${missing[@]}"
fi
echo "tools: $(wrk --version 2>&1 | head -n 1)"
echo "tools: $(shellcheck --version | sed -n 2p)"
