/**
 * Verifies a result-gateway webhook (Standard Webhooks) with node:crypto only. `verify` is the part to copy; run
 * as a script it reads {"secret", "headers", "body"} as JSON on stdin and prints "valid" or "invalid" (exit 1):
 * test/contract/webhook-verifiers.test.ts runs it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export function verify (secret: string, headers: Record<string, string | undefined>, body: string, now = Date.now()): boolean {
  const id = headers['webhook-id'] ?? ''
  const ts = headers['webhook-timestamp'] ?? ''
  if (!/^\d+$/.test(ts) || Math.abs(now / 1000 - Number(ts)) > 300) return false
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest()
  return (headers['webhook-signature'] ?? '').split(' ').some(entry => {
    const [version, sig = ''] = entry.split(',', 2)
    const given = Buffer.from(sig, 'base64')
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected)
  })
}

if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) {
  let input = ''
  process.stdin.on('data', (c: Buffer) => { input += c.toString() })
  process.stdin.on('end', () => {
    const req = JSON.parse(input) as { secret: string, headers: Record<string, string>, body: string }
    const ok = verify(req.secret, req.headers, req.body)
    process.stdout.write(ok ? 'valid\n' : 'invalid\n')
    process.exitCode = ok ? 0 : 1
  })
}
