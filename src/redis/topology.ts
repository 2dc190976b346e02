/**
 * Where Redis is and how to reach it, as plain data: parsed once at startup from Celery-style URLs and the
 * RG_REDIS_* variables (src/redis/settings.ts), turned into ioredis clients only by src/redis/connect.ts.
 * Errors thrown here never quote a password.
 */

export interface Endpoint { host: string, port: number }

export type Topology =
  | { kind: 'standalone', host: string, port: number, db: number }
  | { kind: 'socket', path: string, db: number }
  | { kind: 'sentinel', sentinels: Endpoint[], masterName: string, db: number }
  | { kind: 'cluster', nodes: Endpoint[] }

/** TLS file paths and verification as a URL's query (Celery's ssl_* names) gives them. */
export interface UrlTls { verify?: boolean, caFile?: string, certFile?: string, keyFile?: string }

export interface ParsedUrl {
  topology: Topology
  username?: string
  password?: string
  /** undefined: plain text; set: TLS (rediss://), with whatever the query said. */
  tls?: UrlTls
}

export class TopologyError extends Error {
  override name = 'TopologyError'
}

const hostOf = (u: URL): string => u.hostname.replace(/^\[(.*)\]$/, '$1')

/** "host:port,host:port" (IPv6 as [::1]:port) → endpoints. */
export function parseEndpoints (list: string, defaultPort: number, what: string): Endpoint[] {
  const out: Endpoint[] = []
  for (const item of list.split(',').map(s => s.trim()).filter(s => s !== '')) {
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(item)
    const port = m?.[2] === undefined ? defaultPort : Number(m[2])
    if (m === null || port < 1 || port > 65535) throw new TopologyError(`${what}: "${item}" is not host:port`)
    out.push({ host: (m[1] as string).replace(/^\[(.*)\]$/, '$1'), port })
  }
  if (out.length === 0) throw new TopologyError(`${what}: no host:port given`)
  return out
}

function dbOf (u: URL, fromPath: boolean): number {
  const raw = fromPath ? u.pathname.replace(/^\//, '') : (u.searchParams.get('db') ?? u.searchParams.get('virtual_host') ?? '')
  if (raw === '') return 0
  if (!/^\d{1,2}$/.test(raw)) throw new TopologyError(`database "${raw}" is not a number`)
  return Number(raw)
}

function credentials (u: URL): Pick<ParsedUrl, 'username' | 'password'> {
  const out: Pick<ParsedUrl, 'username' | 'password'> = {}
  if (u.username !== '') out.username = decodeURIComponent(u.username)
  if (u.password !== '') out.password = decodeURIComponent(u.password)
  return out
}

function tlsQuery (u: URL): UrlTls {
  const tls: UrlTls = {}
  const reqs = u.searchParams.get('ssl_cert_reqs')
  if (reqs !== null) tls.verify = !/^(none|cert_none)$/i.test(reqs)
  const ca = u.searchParams.get('ssl_ca_certs')
  const cert = u.searchParams.get('ssl_certfile')
  const key = u.searchParams.get('ssl_keyfile')
  if (ca !== null) tls.caFile = ca
  if (cert !== null) tls.certFile = cert
  if (key !== null) tls.keyFile = key
  return tls
}

function parseOne (raw: string): URL {
  try {
    return new URL(raw)
  } catch {
    // The URL may hold a password: say what is wrong without echoing it.
    throw new TopologyError('not a valid URL')
  }
}

/**
 * Parses what Celery's result_backend accepts: redis://[user:pw@]host:port/db, rediss://…?ssl_cert_reqs=…,
 * unix:///path?db=N (socket:// too), and sentinel://:pw@h1:26379/db;sentinel://:pw@h2:26379 — the master name
 * comes from `masterName` (Celery's transport option master_name) or a master_name query parameter.
 */
export function parseRedisUrl (raw: string, masterName?: string): ParsedUrl {
  const parts = raw.split(';').map(s => s.trim()).filter(s => s !== '')
  const first = parseOne(parts[0] ?? '')
  if (first.protocol === 'sentinel:') {
    const sentinels: Endpoint[] = []
    let db = 0
    let creds: Pick<ParsedUrl, 'username' | 'password'> = {}
    let name = masterName
    for (const part of parts) {
      const u = parseOne(part)
      if (u.protocol !== 'sentinel:') throw new TopologyError('every ;-separated part of a sentinel URL must start with sentinel://')
      sentinels.push({ host: hostOf(u), port: u.port === '' ? 26379 : Number(u.port) })
      if (u.pathname !== '' && u.pathname !== '/') db = dbOf(u, true)
      if (u.username !== '' || u.password !== '') creds = credentials(u)
      name ??= u.searchParams.get('master_name') ?? undefined
    }
    if (name === undefined || name === '') {
      throw new TopologyError('a sentinel:// URL needs the master name: set RG_REDIS_SENTINEL_MASTER (Celery\'s master_name)')
    }
    return { topology: { kind: 'sentinel', sentinels, masterName: name, db }, ...creds }
  }
  if (parts.length > 1) throw new TopologyError('only sentinel:// URLs may list several servers separated by ;')
  switch (first.protocol) {
    case 'redis:':
    case 'rediss:': {
      const out: ParsedUrl = {
        topology: { kind: 'standalone', host: hostOf(first), port: first.port === '' ? 6379 : Number(first.port), db: dbOf(first, true) },
        ...credentials(first)
      }
      if (first.protocol === 'rediss:') out.tls = tlsQuery(first)
      return out
    }
    case 'unix:':
    case 'socket:':
      return { topology: { kind: 'socket', path: decodeURIComponent(first.pathname), db: dbOf(first, false) }, ...credentials(first) }
    default:
      throw new TopologyError('must start with redis://, rediss://, unix://, socket:// or sentinel://')
  }
}

/** A short description for logs and the doctor; never holds credentials. */
export function describeTopology (t: Topology): string {
  switch (t.kind) {
    case 'standalone': return `standalone ${t.host}:${t.port}/${t.db}`
    case 'socket': return `unix socket ${t.path} db ${t.db}`
    case 'sentinel': return `sentinel master "${t.masterName}" via ${t.sentinels.map(s => `${s.host}:${s.port}`).join(',')} db ${t.db}`
    case 'cluster': return `cluster via ${t.nodes.map(s => `${s.host}:${s.port}`).join(',')}`
  }
}
