/**
 * The webhook SSRF guard: which URLs a webhook may point at, and which addresses a delivery may connect to.
 * https only (http only for allow-listed hosts), no credentials in the URL, and every address the host resolves
 * to outside the non-public ranges (loopback, private, link-local, CGNAT, multicast, unspecified, reserved; v4,
 * v6 and v4 embedded in v6) unless the host or host:port is in RG_WEBHOOK_ALLOWED_HOSTS.
 * @see https://owasp.org/www-community/attacks/Server_Side_Request_Forgery
 */
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/** Non-public IPv4 ranges, each with the reason a refusal names. */
const V4_RANGES: Array<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (and broadcast)']
]

/** Non-public IPv6 ranges (v4-mapped, v4-compatible, NAT64 and 6to4 addresses are judged by the v4 inside). */
const V6_RANGES: Array<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast']
]

function rangeList (ranges: Array<[string, number, string]>, family: 'ipv4' | 'ipv6'): Array<[BlockList, string]> {
  return ranges.map(([net, bits, why]) => {
    const list = new BlockList()
    list.addSubnet(net, bits, family)
    return [list, why]
  })
}

const V4 = rangeList(V4_RANGES, 'ipv4')
const V6 = rangeList(V6_RANGES, 'ipv6')

/** The eight 16-bit groups of an IPv6 address (any textual form, a dotted v4 tail included). */
function groups (ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, '')
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  if (tail?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = tail[1].split('.').map(Number)
    text = `${text.slice(0, -tail[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined]
  const h = head === '' ? [] : head.split(':')
  const r = rest === undefined || rest === '' ? [] : rest.split(':')
  const fill = rest === undefined ? [] : new Array<string>(8 - h.length - r.length).fill('0')
  return [...h, ...fill, ...r].map(g => parseInt(g, 16))
}

/** The IPv4 address an IPv6 one carries (v4-mapped ::ffff:0:0/96, v4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16). */
function embeddedV4 (ip: string): string | null {
  const g = groups(ip)
  const v4 = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  const zeros = (n: number): boolean => g.slice(0, n).every(x => x === 0)
  if (zeros(5) && g[5] === 0xffff) return v4(g[6] ?? 0, g[7] ?? 0)
  if (zeros(6) && ((g[6] ?? 0) !== 0 || (g[7] ?? 0) > 1)) return v4(g[6] ?? 0, g[7] ?? 0)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every(x => x === 0)) return v4(g[6] ?? 0, g[7] ?? 0)
  if (g[0] === 0x2002) return v4(g[1] ?? 0, g[2] ?? 0)
  return null
}

/**
 * Why an IP address is not a public one a webhook may reach ("loopback", "private", …), or null when it is
 * public. Pure: never resolves or connects.
 */
export function nonPublicReason (ip: string): string | null {
  const family = isIP(ip)
  if (family === 4) return V4.find(([list]) => list.check(ip, 'ipv4'))?.[1] ?? null
  if (family !== 6) return 'not an IP address'
  const inner = embeddedV4(ip)
  if (inner !== null) {
    const why = nonPublicReason(inner)
    return why === null ? null : `${why} (IPv4 inside IPv6)`
  }
  return V6.find(([list]) => list.check(ip, 'ipv6'))?.[1] ?? null
}

/** A URL the guard refused, with a reason safe to show (never the URL's credentials). */
export class WebhookUrlError extends Error {
  override name = 'WebhookUrlError'
}

/** A checked webhook target: the parsed URL and the addresses it may connect to (in resolver order). */
export interface CheckedTarget {
  url: URL
  /** "host:port" as allow-list entries and per-target limits name it */
  target: string
  addresses: Array<{ address: string, family: 4 | 6 }>
}

export type Resolver = (host: string) => Promise<Array<{ address: string, family: number }>>

const defaultResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true })

/** Allow-list entries (host or host:port, lower case, brackets kept for v6) from RG_WEBHOOK_ALLOWED_HOSTS. */
export function parseAllowList (raw: string | undefined): string[] {
  return (raw ?? '').split(/[\s,]+/).map(h => h.trim().toLowerCase()).filter(h => h !== '')
}

function portOf (url: URL): string {
  return url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80'
}

/**
 * Checks a webhook URL and resolves its host: at registration (the answer is a 4xx when refused) and again
 * before every delivery (the connection then goes to one of the addresses returned, never to a fresh lookup).
 */
export async function checkTarget (raw: string, allowList: readonly string[], resolve: Resolver = defaultResolver): Promise<CheckedTarget> {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new WebhookUrlError('the webhook URL is not an absolute URL')
  }
  const host = url.hostname.toLowerCase()
  const target = `${host}:${portOf(url)}`
  const allowed = allowList.includes(host) || allowList.includes(target)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    throw new WebhookUrlError(`a webhook URL must be https (http only for hosts in RG_WEBHOOK_ALLOWED_HOSTS), not ${url.protocol.replace(/:$/, '')}`)
  }
  if (url.username !== '' || url.password !== '') throw new WebhookUrlError('a webhook URL must not carry credentials (user:password@)')
  if (url.hash !== '') throw new WebhookUrlError('a webhook URL must not have a #fragment')
  const literal = host.replace(/^\[|\]$/g, '')
  let found: Array<{ address: string, family: number }>
  if (isIP(literal) !== 0) {
    found = [{ address: literal, family: isIP(literal) }]
  } else {
    try {
      found = await resolve(literal)
    } catch (err) {
      // In words, not the resolver's code: an ENOTFOUND in a message reads as a lost Redis connection to the
      // error classifier (redis/errors.ts), which would turn this 422 into a 503.
      const code = (err as NodeJS.ErrnoException).code
      throw new WebhookUrlError(`the webhook host ${host} does not resolve (${code === 'ENOTFOUND' ? 'no such host' : code === 'EAI_AGAIN' ? 'DNS temporarily failing' : 'lookup failed'})`)
    }
    if (found.length === 0) throw new WebhookUrlError(`the webhook host ${host} does not resolve`)
  }
  if (!allowed) {
    for (const a of found) {
      const why = nonPublicReason(a.address)
      if (why !== null) {
        throw new WebhookUrlError(`the webhook host ${host} resolves to ${a.address}, a ${why} address; ` +
          'add the host (or host:port) to RG_WEBHOOK_ALLOWED_HOSTS to allow it')
      }
    }
  }
  return { url, target, addresses: found.map(a => ({ address: a.address, family: a.family === 6 ? 6 : 4 })) }
}

/** The URL as it may be shown and logged: no query string (it may hold a receiver's token). */
export function displayUrl (raw: string): string {
  try {
    const u = new URL(raw)
    return `${u.protocol}//${u.host}${u.pathname}${u.search === '' ? '' : '?…'}`
  } catch {
    return '(invalid URL)'
  }
}
