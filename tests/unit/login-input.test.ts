import { describe, expect, it } from 'vitest'
import { formatLoginWait } from '../../app/utils/login-wait'
import { isPossibleLoginUsername } from '../../layers/cockpit-gateway/server/login/username'

describe('isPossibleLoginUsername', () => {
  it.each(['editor', 'editor@example.test', 'José', 'ｅｄｉｔｏｒ', '用户', 'a < b', 'a>b', 'first.last', 'o\'brien', '😀'])('accepts %j (a Cockpit account may be spelt so)', (username) => {
    expect(isPossibleLoginUsername(username)).toBe(true)
  })

  const refused: [string, string][] = [
    ['empty', ''],
    ['surrounding space (Cockpit trims)', ' editor'],
    ['NUL', 'editor\u0000'],
    ...[0x01, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0x85, 0x9F].map(c => [`control U+${c.toString(16).padStart(4, '0')}`, `ed${String.fromCharCode(c)}itor`] as [string, string]),
    ...[0x00AD, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x2028, 0x2029].map(c => [`invisible U+${c.toString(16).toUpperCase()}`, `ed${String.fromCharCode(c)}itor`] as [string, string]),
    ['lone high surrogate', 'editor\uD800'],
    ['lone low surrogate', '\uDC00editor'],
    ['swapped surrogates', 'ed\uDE00\uD83Ditor'],
    ['an HTML tag (strip_tags)', 'editor<b>'],
    ['an open tag at the end', 'editor<'],
  ]
  it.each(refused)('refuses %s', (_name, username) => {
    expect(isPossibleLoginUsername(username)).toBe(false)
  })
})

describe('formatLoginWait', () => {
  it.each([
    [1, '1 second'],
    [2, '2 seconds'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [61, '2 minutes'],
    [83, '2 minutes'],
    [120, '2 minutes'],
    [122, '3 minutes'],
    [3600, '60 minutes'],
  ])('%i s → %s (never shorter than the wait)', (seconds, text) => {
    expect(formatLoginWait(seconds)).toBe(text)
  })

  it.each([undefined, 0, -1, Number.NaN])('%s → a moment', (seconds) => {
    expect(formatLoginWait(seconds)).toBe('a moment')
  })
})
