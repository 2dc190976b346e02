import { readFileSync } from 'node:fs'
import t from 'tap'
import { validate } from 'dockerfile-utils'

const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')

t.test('the Dockerfile passes dockerfile-utils (the linter behind VS Code\'s Docker support)', async t => {
  t.same(validate(dockerfile).map(d => `line ${d.range.start.line + 1}: ${d.message}`), [])
  t.ok(validate('FROM node\nMAINTAINER x\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n').length >= 2, 'the linter does flag mistakes')
})

t.test('the image follows the house rules', async t => {
  const from = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map(m => m[1] ?? '')
  t.ok(from.length >= 2, 'multi-stage')
  for (const image of from) t.match(image, /^node:\d+\.\d+\.\d+-[a-z]+-slim$/, `${image} is pinned to an exact Node release`)
  t.notMatch(dockerfile, /:latest/)
  t.match(dockerfile, /npm ci --omit=dev/, 'production dependencies only')
  t.match(dockerfile, /^USER \d+:\d+$/m, 'numeric non-root user')
  t.match(dockerfile, /^HEALTHCHECK .*\n?.*\/healthz/m)
  t.match(dockerfile, /^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m, 'tini forwards signals')
  t.match(dockerfile, /^CMD \["node", "--import", "\.\/dist\/tracing\/register\.js", "dist\/server\.js"\]$/m, 'no shell in CMD; the tracing preload as npm start gives it')
  t.match(dockerfile, /RG_HTTP_HOST=0\.0\.0\.0/)
  const ignore = readFileSync(new URL('../../.dockerignore', import.meta.url), 'utf8').split('\n')
  for (const p of ['node_modules', 'dist', '.git', 'test']) t.ok(ignore.includes(p), `.dockerignore has ${p}`)
})
