/**
 * The SSRF guard's pure parts: the address classifier over every refused range (v4, v6, v4 inside v6), and
 * checkTarget with a given resolver (so a name resolving to a private address is refused without any DNS).
 * IP literals of private ranges appear only here, and nothing here connects anywhere.
 */
import t from 'tap'
import { checkTarget, displayUrl, nonPublicReason, parseAllowList, WebhookUrlError } from '../../src/webhooks/ssrf.js'

t.test('non-public addresses are named, public ones pass', async t => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/], ['127.255.255.254', /loopback/], ['::1', /loopback/],
    ['10.0.0.1', /private/], ['172.16.0.1', /private/], ['172.31.255.255', /private/], ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/], ['fe80::1', /link-local/],
    ['100.64.0.1', /CGNAT/], ['100.127.255.255', /CGNAT/],
    ['224.0.0.1', /multicast/], ['239.255.255.250', /multicast/], ['ff02::1', /multicast/],
    ['0.0.0.0', /unspecified/], ['::', /unspecified/],
    ['fc00::1', /unique local/], ['fd12:3456::1', /unique local/],
    ['255.255.255.255', /reserved/], ['198.18.0.1', /benchmarking/], ['192.0.2.1', /documentation/],
    ['::ffff:127.0.0.1', /loopback \(IPv4 inside IPv6\)/], ['::ffff:7f00:1', /loopback/], ['::ffff:10.1.2.3', /private/],
    ['::ffff:169.254.169.254', /link-local/], ['64:ff9b::a9fe:a9fe', /link-local/], ['2002:c0a8:101::1', /private/],
    ['::127.0.0.1', /loopback/], ['fe80::1%eth0', /link-local/]
  ]
  for (const [ip, why] of refused) t.match(nonPublicReason(ip), why, ip)
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808']) {
    t.equal(nonPublicReason(ip), null, `${ip} is public`)
  }
  t.equal(nonPublicReason('example.com'), 'not an IP address')
})

t.test('checkTarget: scheme, credentials, resolution, allow-list', async t => {
  const resolveTo = (address: string) => async () => [{ address, family: address.includes(':') ? 6 : 4 }]
  const refuse = async (url: string, allow: string[], resolve: () => Promise<Array<{ address: string, family: number }>>, why: RegExp) => {
    await t.rejects(checkTarget(url, allow, resolve), WebhookUrlError, url)
    await checkTarget(url, allow, resolve).catch((err: Error) => t.match(err.message, why, url))
  }
  await refuse('http://hooks.example.com/x', [], resolveTo('8.8.8.8'), /must be https/)
  await refuse('ftp://hooks.example.com/x', [], resolveTo('8.8.8.8'), /must be https/)
  await refuse('https://user:pw@hooks.example.com/x', [], resolveTo('8.8.8.8'), /credentials/)
  await refuse('https://hooks.example.com/x', [], resolveTo('10.1.2.3'), /resolves to 10\.1\.2\.3, a private address/)
  await refuse('https://metadata.internal/x', [], resolveTo('169.254.169.254'), /link-local/)
  await refuse('https://rebind.example.com/x', [], async () => [{ address: '8.8.8.8', family: 4 }, { address: '192.168.0.1', family: 4 }], /private/)
  await refuse('https://[::ffff:10.0.0.1]/x', [], resolveTo('8.8.8.8'), /private \(IPv4 inside IPv6\)/)
  await refuse('https://nowhere.invalid/x', [], async () => { throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' }) }, /does not resolve \(no such host\)/)
  await refuse('not a url', [], resolveTo('8.8.8.8'), /not an absolute URL/)
  await refuse('https://internal.example:8443/x', ['internal.example:9443'], resolveTo('10.0.0.5'), /private/)
  const ok = await checkTarget('https://hooks.example.com/x?token=1', [], resolveTo('8.8.8.8'))
  t.same(ok.addresses, [{ address: '8.8.8.8', family: 4 }])
  t.equal(ok.target, 'hooks.example.com:443')
  const allowed = await checkTarget('http://internal.example:8443/x', ['internal.example:8443'], resolveTo('10.0.0.5'))
  t.same(allowed.addresses, [{ address: '10.0.0.5', family: 4 }], 'an allow-listed host:port may be private, and http')
  t.ok(await checkTarget('https://internal.example/x', ['internal.example'], resolveTo('10.0.0.5')), 'a host entry allows any port')
})

t.test('allow-list parsing and the displayed URL', async t => {
  t.same(parseAllowList(' Hooks.Internal:8443, localhost 127.0.0.1:9000 '), ['hooks.internal:8443', 'localhost', '127.0.0.1:9000'])
  t.same(parseAllowList(undefined), [])
  t.equal(displayUrl('https://h.example/p?token=secret'), 'https://h.example/p?…', 'the query string is never shown')
})
