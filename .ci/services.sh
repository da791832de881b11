#!/usr/bin/env bash
# Start (or check) the local services the tests talk to. Idempotent; safe to run twice.
set -uo pipefail
if command -v pg_ctlcluster >/dev/null 2>&1; then
    if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    pg_isready -h 127.0.0.1 -p 5432 && echo "postgresql: up" || echo "postgresql: DOWN (its tests will be skipped)"
fi
if command -v redis-server >/dev/null 2>&1; then
    if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
            --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
        sleep 1
    fi
    redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo "redis: up" || echo "redis: DOWN"
fi
exit 0
