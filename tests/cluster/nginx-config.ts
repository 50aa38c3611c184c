// The nginx configuration of the cluster run, from one function: the run writes it into its temp dir and
// docs/deploy.md shows it (tests/unit/deploy-doc.test.ts keeps the doc's copy equal to this output).

/** Where nginx listens and which gateway instances it balances. */
export interface NginxSiteOptions {
  /** nginx's `listen` argument, e.g. `127.0.0.1:8080` or `443 ssl`. */
  listen: string
  /** `host:port` of each gateway instance. */
  upstreams: string[]
  /** More lines for the `server` block (server_name, TLS certificate). @default [] */
  serverLines?: string[]
  /** Instances marked `down` (taken out before a restart). @default [] */
  down?: string[]
}

/** The values docs/deploy.md shows the config with. */
export const DOC_NGINX_SITE: NginxSiteOptions = {
  listen: '443 ssl',
  upstreams: ['10.0.0.11:3000', '10.0.0.12:3000', '10.0.0.13:3000'],
  serverLines: ['server_name www.example.com;', 'ssl_certificate /etc/ssl/certs/www.example.com.pem;', 'ssl_certificate_key /etc/ssl/private/www.example.com.key;'],
}

/**
 * The `upstream` and `server` blocks (what goes into `conf.d/`): round-robin over the instances, one hop
 * appended to `X-Forwarded-For` (the instances run with `NUXT_COCKPIT_GATEWAY_TRUST_PROXY=1`), a refused
 * connection retried on the next instance (a draining instance refuses new connections), and passive
 * health checks (`max_fails`).
 * @param options listen address and instances
 */
export function nginxSiteConfig(options: NginxSiteOptions): string {
  const servers = options.upstreams.map(address => `    server ${address} max_fails=1 fail_timeout=2s${options.down?.includes(address) ? ' down' : ''};`).join('\n')
  return `upstream cockpit_gateway {
${servers}
}

server {
    listen ${options.listen};
${(options.serverLines ?? []).map(line => `    ${line}\n`).join('')}
    location / {
        proxy_pass http://cockpit_gateway;
        # The site's own origin, as the browser sent it: the gateway compares it with Origin on writes.
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-Host $http_host;
        proxy_set_header X-Forwarded-Proto $scheme;
        # Appends the peer's address to whatever the client sent; the gateway trusts only that last hop.
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        # A refused connection (an instance restarting or draining) goes to the next instance. A POST or
        # PATCH that reached an instance is never sent again (no "non_idempotent"), nor is a slow answer
        # retried elsewhere (no "timeout").
        proxy_next_upstream error;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 2s;
        proxy_read_timeout 30s;
    }
}
`
}

/** Options of {@link nginxMainConfig}. */
export interface NginxMainOptions extends NginxSiteOptions {
  /** Directory for logs and temp files (nginx's `-p` prefix). */
  dir: string
  /** Run workers as root (the master runs as root and the temp dir is not readable by `nobody`). */
  asRoot: boolean
}

/**
 * A whole `nginx.conf` for a non-daemon nginx owned by the test: everything it writes stays in `dir`
 * (pid file and `daemon off` are given on the command line).
 * @param options site, directory and user
 */
export function nginxMainConfig(options: NginxMainOptions): string {
  const { dir } = options
  return `${options.asRoot ? 'user root;\n' : ''}worker_processes 1;
error_log ${dir}/error.log warn;

events {
    worker_connections 512;
}

http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${nginxSiteConfig(options).replace(/^(?=.)/gm, '    ')}}
`
}
