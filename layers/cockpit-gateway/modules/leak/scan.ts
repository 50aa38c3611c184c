import { readdir, readFile, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { GatewaySecret } from './secrets'
import { secretForms } from './secrets'

/** A secret found in an output file. */
export interface SecretLeak {
  /** The file, relative to the scanned directory, with `/` separators. */
  file: string
  /** Which setting's value it holds, e.g. `NUXT_COCKPIT_READ_KEY`: never the value. */
  setting: string
}

/**
 * Names of the settings whose value appears in a text or file contents, in any of the forms of `secretForms`.
 * @param contents file contents (searched as bytes, so binary files need no special case) or a string
 * @param secrets from `collectGatewaySecrets`
 */
export function findSecretsInContents(contents: Buffer | string, secrets: GatewaySecret[]): string[] {
  const bytes = typeof contents === 'string' ? Buffer.from(contents) : contents
  return secrets
    .filter(secret => secretForms(secret.value).some(form => bytes.includes(form)))
    .map(secret => secret.setting)
}

/**
 * Every file under `dir` (recursively) that holds one of the secrets, sorted by file. A missing `dir` has none.
 * @param dir e.g. Nitro's `output.publicDir`
 * @param secrets from `collectGatewaySecrets`
 * @example
 * const leaks = await findSecretLeaks('.output/public', secrets) // [{ file: 'index.html', setting: 'NUXT_COCKPIT_READ_KEY' }]
 */
export async function findSecretLeaks(dir: string, secrets: GatewaySecret[]): Promise<SecretLeak[]> {
  if (secrets.length === 0) return []
  const leaks: SecretLeak[] = []
  for (const path of await listFiles(dir)) {
    const file = relative(dir, path).split(sep).join('/')
    for (const setting of findSecretsInContents(await readFile(path), secrets)) leaks.push({ file, setting })
  }
  return leaks.sort((a, b) => a.file.localeCompare(b.file) || a.setting.localeCompare(b.setting))
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  const files: string[] = []
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...await listFiles(path))
    else if (entry.isFile()) files.push(path)
    // A symlinked file is served like any other; symlinked directories are not followed, so a loop cannot hang the build.
    else if (entry.isSymbolicLink() && (await stat(path).catch(() => null))?.isFile()) files.push(path)
  }
  return files
}
