#!/usr/bin/env bash
# Headless Chromium (and CJK fonts) for the map tests: Debian packages only, never a browser
# downloaded by a tool (no `playwright install`). Idempotent: does nothing when both are present.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [ "${#need[@]}" -eq 0 ]; then
    echo "browser: chromium and fonts-noto-cjk already installed ($(/usr/bin/chromium --version 2>/dev/null || true))"
    exit 0
fi
source "$(dirname "$0")/apt.sh"
apt_install "${need[@]}"
/usr/bin/chromium --version
