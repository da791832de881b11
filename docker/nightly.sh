#!/bin/sh
# Submit tonight's rebalancing run over HTTP, wait for it, save the route sheet and the routes.
#
#   MOBILITY_URL=http://api:8000 MOBILITY_OPS_KEY=mob_... REQUEST_FILE=tonight.json OUT_DIR=out \
#     sh docker/nightly.sh
#
# REQUEST_FILE is a POST /v1/rebalancing/runs body (snapshot or snapshot_id, fleet, time_limit),
# written by the status feed before the run. The Idempotency-Key is nightly-<NIGHT>, NIGHT being
# the date (YYYY-MM-DD) unless set, so a cron retry (or a second scheduler) never submits the same
# night twice: it gets the first run back and waits for it. The routes are saved as
# OUT_DIR/routes-<NIGHT>.csv and .geojson, both or neither (downloaded to temporary files first),
# and, when the request asks for "morning_after", the simulated morning as OUT_DIR/morning-<NIGHT>.json.
# The run is polled every POLL_SECONDS (10) for up to MAX_WAIT_SECONDS (3600).
#
# NIGHT overrides the date: a night's request corrected after it was submitted (the API answers
# 409: the key was used with another body), or a run that failed, is submitted again as a new run
# with NIGHT=<date>-2 (then -3, ...), e.g. NIGHT=2025-12-01-2; its routes are routes-<NIGHT>.*.
#
# Exit codes (a Kubernetes podFailurePolicy or a cron wrapper can tell them apart):
#   0   the routes are saved
#   2   permanent: retrying the same thing cannot help (a setting or REQUEST_FILE missing, the API
#       refused the request: 400 401 403 404 409 413 422 and other 4xx, the run failed or was
#       cancelled); the API's reason (its "detail") is printed to stderr
#   75  retryable (EX_TEMPFAIL): no answer, an answer cut short, 408 425 429 or 5xx, or the run not
#       finished after MAX_WAIT_SECONDS; a retry gets the same run back
#   1   anything else (e.g. OUT_DIR cannot be created)
set -eu
: "${MOBILITY_URL:=http://127.0.0.1:8000}"
: "${REQUEST_FILE:=/requests/tonight.json}"
: "${OUT_DIR:=/out}"
: "${MAX_WAIT_SECONDS:=3600}"
: "${POLL_SECONDS:=10}"
night=${NIGHT:-$(date +%F)}
PERMANENT=2
RETRYABLE=75

fail() {  # fail CODE MESSAGE...: the message on stderr, then exit CODE
  code_=$1
  shift
  echo "nightly $night: $*" >&2
  exit "$code_"
}

if [ -z "${MOBILITY_OPS_KEY:-}" ]; then
  fail "$PERMANENT" "set MOBILITY_OPS_KEY to an ops key (mobility keys create --role ops)"
fi
if [ ! -f "$REQUEST_FILE" ] || [ ! -r "$REQUEST_FILE" ]; then
  fail "$PERMANENT" "REQUEST_FILE $REQUEST_FILE is not a readable file (the status feed writes it)"
fi
mkdir -p "$OUT_DIR"

work=$(mktemp -d "${TMPDIR:-/tmp}/mobility-nightly.XXXXXX")
csv_part="$OUT_DIR/.routes-$night.csv.$$.part"
geojson_part="$OUT_DIR/.routes-$night.geojson.$$.part"
morning_part="$OUT_DIR/.morning-$night.json.$$.part"
trap 'rm -rf "$work"; rm -f "$csv_part" "$geojson_part" "$morning_part"' EXIT
trap 'exit "$RETRYABLE"' HUP INT TERM

# http FILE [curl options...] URL: the answer's body in FILE, its HTTP status in $status_code
# ("000": no complete answer: no connection, a timeout, or a body cut short).
http() {
  out_=$1
  shift
  if status_code=$(curl -sS -o "$out_" -w '%{http_code}' -H "X-API-Key: $MOBILITY_OPS_KEY" "$@"); then
    :
  else
    status_code=000
  fi
}

# field FILE KEY...: a value of a JSON answer (field FILE error message: its ["error"]["message"]);
# fails when python3 is missing, FILE is not JSON or has no such value.
field() {
  command -v python3 >/dev/null 2>&1 || return 1
  python3 - "$@" 2>/dev/null <<'EOF'
import json, sys
value = json.load(open(sys.argv[1], encoding="utf-8"))
for key in sys.argv[2:]:
    value = value[key]
if value is None:
    sys.exit(1)
print(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
EOF
}

# detail FILE: the "detail" of an error answer ({"detail": ...}), else its first 500 bytes.
detail() {
  field "$1" detail || { head -c 500 "$1"; echo; }
}

# refused WHAT FILE: exit with the code for the failed answer $status_code, its reason on stderr.
refused() {
  case $status_code in
    000) fail "$RETRYABLE" "$1: no complete answer from $MOBILITY_URL" ;;
    408 | 425 | 429 | 5??) fail "$RETRYABLE" "$1: HTTP $status_code: $(detail "$2")" ;;
    409) fail "$PERMANENT" "$1: HTTP 409: $(detail "$2") (nightly-$night): night $night was" \
      "already submitted with another request body, and that run stands. To submit this body as a new run," \
      "set NIGHT=$night-2 (then -3, ...)." ;;
    *) fail "$PERMANENT" "$1: HTTP $status_code: $(detail "$2")" ;;
  esac
}

http "$work/body" -D "$work/headers" -X POST "$MOBILITY_URL/v1/rebalancing/runs" \
  -H "Idempotency-Key: nightly-$night" -H "Content-Type: application/json" \
  --data-binary @"$REQUEST_FILE"
case $status_code in
  2??) ;;
  *) refused "POST /v1/rebalancing/runs" "$work/body" ;;
esac
location=$(awk 'tolower($1) == "location:" { print $2 }' "$work/headers" | tr -d '\r' | tail -n 1)
[ -n "$location" ] ||
  fail "$PERMANENT" "no Location header in the answer (HTTP $status_code): is $MOBILITY_URL the API?"
echo "run $location"

waited=0
while :; do
  http "$work/body" "$MOBILITY_URL$location"
  case $status_code in
    200)
      status=$(field "$work/body" status) ||
        status=$(sed -n 's/.*"status" *: *"\([a-z]*\)".*/\1/p' "$work/body")
      case "$status" in
        succeeded) cp "$work/body" "$work/run" && break ;;
        failed | cancelled)
          reason=$(field "$work/body" error message) || reason="no reason given"
          fail "$PERMANENT" "run $location $status: $reason. A retry gets this run back; to submit" \
            "the night again as a new run, set NIGHT=$night-2 (then -3, ...)." ;;
      esac ;;
    000 | 408 | 425 | 429 | 5??) status="unknown (HTTP $status_code)" ;;  # e.g. the API restarting
    *) refused "GET $location" "$work/body" ;;
  esac
  [ "$waited" -lt "$MAX_WAIT_SECONDS" ] ||
    fail "$RETRYABLE" "run $location still $status after $waited s; a retry waits for the same run"
  sleep "$POLL_SECONDS"
  waited=$((waited + POLL_SECONDS))
done

# Both files to temporary names in OUT_DIR (same file system), renamed once both are complete:
# a night has both files or neither. The EXIT trap removes what a failure leaves.
http "$csv_part" "$MOBILITY_URL$location/routes?format=csv"
[ "$status_code" = 200 ] || refused "GET $location/routes?format=csv" "$csv_part"
http "$geojson_part" "$MOBILITY_URL$location/routes?format=geojson"
[ "$status_code" = 200 ] || refused "GET $location/routes?format=geojson" "$geojson_part"
mv -f "$csv_part" "$OUT_DIR/routes-$night.csv"
mv -f "$geojson_part" "$OUT_DIR/routes-$night.geojson"
echo "saved $OUT_DIR/routes-$night.csv and .geojson"

# The simulated morning after, when the request asked for it (the run links "morning"): saved as
# OUT_DIR/morning-<NIGHT>.json. It is a report on the routes, not the routes: a failed download
# is said on stderr and the night still succeeds.
if field "$work/run" links morning >/dev/null || grep -q '"morning" *:' "$work/run"; then
  http "$morning_part" "$MOBILITY_URL$location/morning"
  if [ "$status_code" = 200 ]; then
    mv -f "$morning_part" "$OUT_DIR/morning-$night.json"
    echo "saved $OUT_DIR/morning-$night.json"
  else
    echo "nightly $night: the morning after was not saved: GET $location/morning: HTTP $status_code" >&2
  fi
fi
