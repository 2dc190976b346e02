/**
 * Runtime dependencies are exactly what src/ loads: its imports, plus modules pino loads by name as a log
 * transport (`target: 'pino-pretty'`). The image installs `npm ci --omit=dev`, so anything else is dead weight
 * and anything missing breaks the container only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { builtinModules } from 'node:module'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../', import.meta.url))

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

/** '@scope/pkg/sub' → '@scope/pkg', 'pkg/sub' → 'pkg'. */
const packageOf = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/')

t.test('package.json dependencies are exactly the packages src/ imports', async t => {
  const used = new Set<string>()
  for (const file of sources(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8')
    // Static imports and re-exports (also multi-line), side-effect and dynamic imports, pino transports.
    const pattern = /^(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'|^import\s*'([^']+)'|(?<![\w.])import\(\s*'([^']+)'|\btarget:\s*'([^']+)'/gm
    for (const m of text.matchAll(pattern)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4] ?? ''
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue
      used.add(packageOf(spec))
    }
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  t.same(Object.keys(pkg.dependencies).sort(), [...used].sort())
})
