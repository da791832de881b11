#!/usr/bin/env bash
# Supply chain: known vulnerabilities of the installed environment (.venv), with pip-audit.
#
# Fails when pip-audit reports a vulnerability that .ci/pip-audit-allow.txt does not list with a
# reason. pip-audit asks a vulnerability service over the network (PyPI's JSON API by default,
# or OSV with MOBILITY_AUDIT_SERVICE=osv); there is no offline database. When the service cannot
# be reached the step says so plainly and passes (the dependencies it would have audited are
# listed by a dry run), unless MOBILITY_AUDIT_REQUIRED=1, which makes an unreachable service a
# failure (set it where the network is there, e.g. the release pipeline).
set -euo pipefail
cd "$(dirname "$0")/.."
allow=${MOBILITY_AUDIT_ALLOW:-.ci/pip-audit-allow.txt}
pip_audit=${PIP_AUDIT:-.venv/bin/pip-audit}  # the tests put a stand-in here
service=${MOBILITY_AUDIT_SERVICE:-pypi}
args=(--skip-editable --progress-spinner off --vulnerability-service "$service" --timeout 20)

# Every allow-list entry: an id and a reason.
bad=$(awk '!/^[[:space:]]*(#|$)/ && NF < 2 {print NR": "$0}' "$allow")
if [ -n "$bad" ]; then
    echo "audit: $allow entries without a reason:"; echo "$bad"; exit 1
fi
while read -r id _; do
    args+=(--ignore-vuln "$id")
done < <(awk '!/^[[:space:]]*(#|$)/ {print $1}' "$allow")

report=$(mktemp)
errors=$(mktemp)
trap 'rm -f "$report" "$errors"' EXIT
set +e
"$pip_audit" "${args[@]}" --format json --output "$report" 2>"$errors"
rc=$?
set -e
if [ "$rc" -eq 0 ]; then
    echo "audit: no known vulnerabilities ($(.venv/bin/python -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["dependencies"]))' "$report") packages, service $service; allow-listed: $(grep -cvE '^[[:space:]]*(#|$)' "$allow" || true))"
    exit 0
fi
if [ -s "$report" ] && .venv/bin/python - "$report" <<'PY'
import json, sys
deps = json.load(open(sys.argv[1]))["dependencies"]
found = [(d["name"], d["version"], v["id"], ",".join(v.get("fix_versions", [])) or "none")
         for d in deps for v in d.get("vulns", [])]
for name, version, vid, fix in found:
    print(f"audit: {name} {version}: {vid} (fixed in {fix})")
sys.exit(0 if found else 1)
PY
then
    echo "audit: FAILED: known vulnerabilities above; upgrade, or list them in $allow with a reason"
    exit 1
fi
# No report with findings: pip-audit could not do its job (most often: no network to the service).
echo "audit: pip-audit could not query the vulnerability service '$service':"
tail -n 3 "$errors" | sed 's/^/    /'
if [ "${MOBILITY_AUDIT_REQUIRED:-0}" = "1" ]; then
    echo "audit: FAILED (MOBILITY_AUDIT_REQUIRED=1)"; exit 1
fi
n=$("$pip_audit" --skip-editable --dry-run --progress-spinner off 2>&1 | grep -oE '[0-9]+ (packages|dependencies)' | head -1 || true)
echo "audit: SKIPPED, not passed: the environment was not checked (${n:-the installed packages} collected by a dry run)."
