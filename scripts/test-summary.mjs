// Prints one closing line for the whole `npm test` run: "N passed, N failed" (plus failed stages).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const [dir, ...failedStages] = process.argv.slice(2)
let passed = 0
let failed = 0
let skipped = 0
for (const name of ['unit', 'e2e']) {
  const file = join(dir, `${name}.json`)
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += report.numFailedTests ?? 0
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
}
const browser = join(dir, 'browser.json')
if (existsSync(browser)) {
  const stats = JSON.parse(readFileSync(browser, 'utf8')).stats ?? {}
  passed += (stats.expected ?? 0) + (stats.flaky ?? 0)
  failed += stats.unexpected ?? 0
  skipped += stats.skipped ?? 0
}
// The cluster run's own report (`CLUSTER_REPORT`): one entry per step.
const cluster = join(dir, 'cluster.json')
if (existsSync(cluster)) {
  const report = JSON.parse(readFileSync(cluster, 'utf8'))
  passed += report.passed ?? 0
  failed += report.failed ?? 0
}
if (failedStages.length) console.log(`failed stages: ${failedStages.join(', ')}`)
if (passed + failed === 0) {
  console.log('no test ran')
  process.exit(1)
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || failedStages.length > 0 ? 1 : 0)
