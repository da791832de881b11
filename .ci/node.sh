#!/usr/bin/env bash
# Node.js and npm for `make setup` (the web app's packages: MapLibre GL JS, axe-core, ESLint, from
# the npm registry): Debian packages. Idempotent: does nothing when npm is present.
set -euo pipefail
if command -v npm >/dev/null 2>&1; then
    echo "node: $(node --version), npm $(npm --version) already installed"
    exit 0
fi
source "$(dirname "$0")/apt.sh"
apt_install nodejs npm
node --version
