import { parseArgs } from 'node:util'
import { startEmulator } from './index'

const USAGE = 'Usage: npm run emulator -- --port <n> --cockpit-version <1|2> [--data <dir>]'

/** Validated command line of the emulator. */
interface CliOptions {
  port: number
  version: 1 | 2
  dataDir?: string
}

/** Parses and checks the arguments; throws an Error whose message is meant for the terminal. */
function readCliOptions(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      'port': { type: 'string' },
      'cockpit-version': { type: 'string' },
      'data': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const port = Number(values.port)
  if (values.port === undefined || !/^\d+$/.test(values.port) || port > 65535) {
    throw new Error(`--port must be an integer from 0 to 65535 (got ${values.port ?? 'nothing'})`)
  }
  const version = values['cockpit-version']
  if (version !== '1' && version !== '2') {
    throw new Error(`--cockpit-version must be 1 or 2 (got ${version ?? 'nothing'})`)
  }
  if (values.data !== undefined && values.data.trim() === '') throw new Error('--data needs a directory')
  return { port, version: version === '1' ? 1 : 2, dataDir: values.data }
}

async function main(): Promise<void> {
  let options: CliOptions
  try {
    options = readCliOptions(process.argv.slice(2))
  }
  catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`)
    process.exit(2)
  }
  const emulator = await startEmulator({ version: options.version, port: options.port, host: '127.0.0.1', dataDir: options.dataDir })
  const stop = () => {
    emulator.close().then(() => process.exit(0), () => process.exit(1))
  }
  // handlers first: whoever waits for the line below may signal right away
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  console.log(`Cockpit emulator v${emulator.version} listening on ${emulator.url}`)
  // asset ids and paths are generated per run (as in Cockpit): print them for whoever configures a client
  for (const asset of await emulator.listAssets()) console.log(`  asset ${String(asset.title)}: _id ${String(asset._id)}, path ${String(asset.path)}`)
}

main().catch((error: unknown) => {
  console.error(`Cockpit emulator failed to start: ${(error as Error).message}`)
  process.exit(1)
})
