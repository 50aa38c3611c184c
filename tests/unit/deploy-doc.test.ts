import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DOC_NGINX_SITE, nginxSiteConfig } from '../cluster/nginx-config'

const deployDoc = readFileSync(resolve(__dirname, '../../docs/deploy.md'), 'utf8')

describe('docs/deploy.md', () => {
  it('shows the nginx config the cluster run (npm run test:cluster) uses, as generated', () => {
    expect(deployDoc).toContain(`\`\`\`nginx\n${nginxSiteConfig(DOC_NGINX_SITE)}\`\`\``)
  })
})
