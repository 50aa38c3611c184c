#!/usr/bin/env bash
# `npm test`: lint, typecheck, unit + emulator contract tests, e2e against a built server, the same build
# as a cluster of three behind nginx (needs /usr/sbin/nginx), Playwright.
# Every stage runs; the run fails if any stage failed, and ends with one pass/fail summary line.
set -uo pipefail
cd "$(dirname "$0")/.."
reports=$(mktemp -d)
failed_stages=()

stage() {
  local name=$1; shift
  echo "::: $name"
  if ! "$@"; then failed_stages+=("$name"); fi
}

stage prepare npx nuxt prepare
stage lint npx eslint .
stage typecheck npx nuxt typecheck
stage unit npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$reports/unit.json"
stage build npx tsx scripts/build-demo.ts
stage e2e npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$reports/e2e.json"
stage cluster env CLUSTER_REPORT="$reports/cluster.json" npm run --silent test:cluster
stage browser env PLAYWRIGHT_JSON_OUTPUT_NAME="$reports/browser.json" npx playwright test --reporter=list,json

node scripts/test-summary.mjs "$reports" "${failed_stages[@]}"
status=$?
rm -rf "$reports"
exit $status
