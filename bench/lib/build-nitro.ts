// Builds the Nitro fixtures of the benchmark (preset node-server) into given folders, nothing in the repo:
// `node --import tsx bench/lib/build-nitro.ts <fixture dir> <output dir> [<fixture dir> <output dir> …]`.
// A child process of the bench, so the bundler's memory and CPU never sit in the process that drives the
// load; one process for all fixtures, so nitropack is loaded once.
import { join, resolve } from 'node:path'
import { build, copyPublicAssets, createNitro, prepare } from 'nitropack'

const args = process.argv.slice(2).map(path => resolve(path))
if (!args.length || args.length % 2) {
  process.stderr.write('usage: build-nitro.ts <fixture dir> <output dir> [<fixture dir> <output dir> …]\n')
  process.exit(2)
}
// One after the other: on a 2-core machine parallel builds only fight each other.
for (let i = 0; i < args.length; i += 2) {
  const [rootDir, outputDir] = [args[i]!, args[i + 1]!]
  const nitro = await createNitro({
    rootDir,
    dev: false,
    preset: 'node-server',
    buildDir: join(outputDir, '.nitro'),
    output: { dir: outputDir },
    sourceMap: false,
    logLevel: 1,
  })
  await prepare(nitro)
  await copyPublicAssets(nitro)
  await build(nitro)
  await nitro.close()
}
