import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

/** The e2e suites run against the built demo (`scripts/build-demo.ts`, which `npm test` runs first). */
export default function setup() {
  if (!existsSync(resolve(process.env.DEMO_OUTPUT_DIR ?? resolve(__dirname, '../../.output'), 'server/index.mjs'))) {
    throw new Error('No build in .output: run `npx tsx scripts/build-demo.ts` (npm test does) before the e2e project')
  }
}
