/**
 * A numeric knob from env, or `fallback` when unset; exits 2 with a one-line reason when it is not a number in range.
 * @param tool the script's name in the message (`bench`, `soak`)
 * @param name the env variable
 * @param fallback its default
 * @param rule `non-negative` (default), `positive`, or `non-negative integer`
 */
export function readKnob(tool: string, name: string, fallback: number, rule: 'non-negative' | 'positive' | 'non-negative integer' = 'non-negative'): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  const fits = Number.isFinite(value) && (rule === 'positive' ? value > 0 : value >= 0) && (rule !== 'non-negative integer' || Number.isInteger(value))
  if (!fits) {
    process.stderr.write(`${tool}: ${name} must be a ${rule === 'non-negative' ? 'non-negative number' : rule === 'positive' ? 'positive number' : 'non-negative integer'}\n`)
    process.exit(2)
  }
  return value
}
