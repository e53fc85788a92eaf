#!/usr/bin/env bash
# The whole test suite, as `make test` runs it.
#
# Unit tests and doctests run in one pytest process. Each integration file runs in a pytest
# process of its own: chDB (ClickHouse in-process) allows one engine, on one data path, per
# process, and every integration file opens its own fresh chDB directory. All files run even
# when one fails; the script then exits non-zero and lists the failures.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST="${PYTEST:-.venv/bin/pytest}"
# The report-page tests screenshot every panel in a headless Chromium when one can be had
# (scripts/chromium.sh: on PATH, or Debian's fetched without root); else they skip and say why.
TICKWISE_CHROMIUM="$(scripts/chromium.sh)"
export TICKWISE_CHROMIUM
echo "headless Chromium for the report screenshots: ${TICKWISE_CHROMIUM:-none (those tests skip)}"
failed=()
passed_total=0
failed_total=0

run() {
    local label="$1"; shift
    echo "== ${label}"
    local log
    log="$(mktemp)"
    "$PYTEST" -q "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    local line
    line="$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$log" | tail -1)"
    local p f
    p="$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
    f="$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
    e="$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
    passed_total=$((passed_total + ${p:-0}))
    failed_total=$((failed_total + ${f:-0} + ${e:-0}))
    rm -f "$log"
    if [ "$status" -ne 0 ]; then
        failed+=("$label (exit $status)")
    fi
}

run "unit tests and doctests" tests/unit operators dataflows models sinks
for file in tests/fuzz/test_*.py tests/integration/test_*.py; do
    run "$file" "$file"
done

if [ "${#failed[@]}" -ne 0 ]; then
    printf 'failed: %s\n' "${failed[@]}"
fi
echo "${passed_total} passed, ${failed_total} failed"
[ "${#failed[@]}" -eq 0 ]
