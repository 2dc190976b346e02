/**
 * Which Node runs the suite. CI runs it twice: on the machine's Node and on the image's (.ci/checks.d), which
 * sets RG_TEST_EXPECT_NODE to the Dockerfile's version, so a run that silently fell back to another Node fails.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }
const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')

t.test('the suite runs on the Node it was asked for, and one the package supports', async t => {
  const expected = process.env.RG_TEST_EXPECT_NODE
  if (expected !== undefined && expected !== '') t.equal(process.version, `v${expected}`, 'the image\'s Node')
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  const [, wantMajor = '0', wantMinor = '0'] = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node) ?? []
  t.ok(major > Number(wantMajor) || (major === Number(wantMajor) && minor >= Number(wantMinor)), `${process.version} satisfies engines ${pkg.engines.node}`)
})

t.test('the image pins one exact Node release, the one CI runs the suite on a second time', async t => {
  const versions = new Set([...dockerfile.matchAll(/^FROM node:(\d+\.\d+\.\d+)-/gm)].map(m => m[1]))
  t.equal(versions.size, 1, `every stage uses the same Node: ${[...versions].join(', ')}`)
  const check = readFileSync(new URL('../../.ci/checks.d/20-node-image.sh', import.meta.url), 'utf8')
  t.match(check, /sed -n 's\/\^FROM node:/, 'the CI check reads its Node version from the Dockerfile (no second pin to drift)')
  t.match(check, /RG_TEST_EXPECT_NODE="\$version"/, 'and makes this test check that it runs on it')
})
