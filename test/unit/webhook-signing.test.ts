/** Standard Webhooks signing: secret parsing (rotation lists), the signature against a known vector, the webhook-id. */
import { createHmac } from 'node:crypto'
import t from 'tap'
import { parseSecrets, sign, webhookId } from '../../src/webhooks/signing.js'
import { backoffMs } from '../../src/webhooks/worker.js'

// The example of the Standard Webhooks specification (its reference libraries' test vector).
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
const SPEC_TS = 1614265330
const SPEC_BODY = '{"test": 2432232314}'
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

t.test('the specification\'s example signs to its published signature', async t => {
  t.equal(sign(parseSecrets(SPEC_SECRET), SPEC_ID, SPEC_TS, SPEC_BODY), SPEC_SIGNATURE)
})

t.test('a rotation list signs with every secret, space-separated', async t => {
  const keys = parseSecrets(`${SPEC_SECRET}, whsec_${Buffer.alloc(32, 7).toString('base64')}`)
  t.equal(keys.length, 2)
  const header = sign(keys, 'msg_1', 1, '{}')
  const parts = header.split(' ')
  t.equal(parts.length, 2)
  t.equal(parts[1], `v1,${createHmac('sha256', Buffer.alloc(32, 7)).update('msg_1.1.{}').digest('base64')}`)
})

t.test('bad secrets are refused without echoing them', async t => {
  for (const bad of ['', 'plain-secret-value', 'whsec_!!!', 'whsec_c2hvcnQ=']) {
    let message = ''
    try {
      parseSecrets(bad)
    } catch (err) {
      message = (err as Error).message
    }
    t.match(message, /^RG_WEBHOOK_SECRET: /, `${bad} is refused`)
    if (bad !== '') t.notOk(message.includes(bad), 'without echoing it')
  }
})

t.test('webhook-id: stable per subscription, task and state; different otherwise', async t => {
  const a = webhookId('task:r1', 'p:', 't1', 'SUCCESS')
  t.match(a, /^msg_[A-Za-z0-9_-]{32}$/)
  t.equal(webhookId('task:r1', 'p:', 't1', 'SUCCESS'), a)
  t.not(webhookId('task:r2', 'p:', 't1', 'SUCCESS'), a)
  t.not(webhookId('task:r1', 'p:', 't1', 'FAILURE'), a)
  t.not(webhookId('task:r1', 'q:', 't1', 'SUCCESS'), a)
})

t.test('backoff doubles from the base, with jitter, up to the cap', async t => {
  for (let i = 0; i < 50; i++) {
    const first = backoffMs(1, 100, 10_000)
    t.ok(first >= 50 && first <= 100, `first ${first}`)
    const fourth = backoffMs(4, 100, 10_000)
    t.ok(fourth >= 400 && fourth <= 800, `fourth ${fourth}`)
    t.ok(backoffMs(30, 100, 10_000) <= 10_000, 'capped')
  }
})
