// @ts-check
import withNuxt from './.nuxt/eslint.config.mjs'

export default withNuxt(
  {
    // Tests inspect loosely typed JSON answers on purpose.
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    ignores: ['tests/fixtures/**/.nuxt/**', 'tests/fixtures/**/.output/**', 'test-results/**', 'playwright-report/**'],
  },
)
