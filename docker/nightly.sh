#!/bin/sh
# Submit tonight's rebalancing run over HTTP, wait for it, save the route sheet and the routes.
#
#   MOBILITY_URL=http://api:8000 MOBILITY_OPS_KEY=mob_... REQUEST_FILE=tonight.json OUT_DIR=out \
#     sh docker/nightly.sh
#
# REQUEST_FILE is a POST /v1/rebalancing/runs body (snapshot or snapshot_id, fleet, time_limit),
# written by the status feed before the run. The Idempotency-Key is the date, so a cron retry
# (or a second scheduler) never submits the same night twice: it gets the first run back.
set -eu
: "${MOBILITY_URL:=http://127.0.0.1:8000}"
: "${MOBILITY_OPS_KEY:?set MOBILITY_OPS_KEY to an ops key (mobility keys create --role ops)}"
: "${REQUEST_FILE:=/requests/tonight.json}"
: "${OUT_DIR:=/out}"
: "${MAX_WAIT_SECONDS:=3600}"
night=${NIGHT:-$(date +%F)}
mkdir -p "$OUT_DIR"

location=$(curl -fsS -o /dev/null -D - -X POST "$MOBILITY_URL/v1/rebalancing/runs" \
    -H "X-API-Key: $MOBILITY_OPS_KEY" -H "Idempotency-Key: nightly-$night" \
    -H "Content-Type: application/json" --data-binary @"$REQUEST_FILE" \
  | awk 'tolower($1) == "location:" { print $2 }' | tr -d '\r')
[ -n "$location" ] || { echo "no Location header in the answer" >&2; exit 1; }
echo "run $location"

waited=0
while :; do
  status=$(curl -fsS "$MOBILITY_URL$location" -H "X-API-Key: $MOBILITY_OPS_KEY" \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p')
  case "$status" in
    succeeded) break ;;
    failed|cancelled) echo "run $location $status" >&2; exit 1 ;;
  esac
  [ "$waited" -lt "$MAX_WAIT_SECONDS" ] || { echo "run $location still $status" >&2; exit 1; }
  sleep 10; waited=$((waited + 10))
done
curl -fsS "$MOBILITY_URL$location/routes?format=csv" -H "X-API-Key: $MOBILITY_OPS_KEY" -o "$OUT_DIR/routes-$night.csv"
curl -fsS "$MOBILITY_URL$location/routes?format=geojson" -H "X-API-Key: $MOBILITY_OPS_KEY" -o "$OUT_DIR/routes-$night.geojson"
echo "saved $OUT_DIR/routes-$night.csv and .geojson"
