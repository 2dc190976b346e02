/**
 * The house's two measurable rules for src/: every file stays under 300 lines, and the modules import each
 * other without a cycle (layers run downward; type-only imports count, since a cycle of types is the same
 * tangle to a reader). Imports are read by TypeScript's own pre-processor, so multi-line, type-only,
 * re-export and dynamic imports are all seen.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const root = fileURLToPath(new URL('../../', import.meta.url))
const src = join(root, 'src')
const MAX_LINES = 300

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap(f => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : []
  })
}

const name = (file: string): string => relative(root, file)

/** src/ file → the src/ files it imports ('./x.js' is the source './x.ts'). */
function importGraph (files: string[]): Map<string, string[]> {
  const known = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const targets = importedFiles
      .map(i => i.fileName)
      .filter(spec => spec.startsWith('.'))
      .map(spec => resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
      .filter(target => known.has(target))
    graph.set(file, [...new Set(targets)])
  }
  return graph
}

/** Every import cycle, each as the path that closes it (a → b → … → a), found by depth-first search. */
function cycles (graph: Map<string, string[]>): string[][] {
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): void => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (state.get(next) === undefined) visit(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (state.get(node) === undefined) visit(node)
  return found
}

t.test(`no file in src/ is over ${MAX_LINES} lines`, async t => {
  const files = sources(src)
  t.ok(files.length > 20, 'src/ was read')
  const long = files
    .map(file => ({ file, lines: readFileSync(file, 'utf8').split('\n').length - 1 }))
    .filter(f => f.lines > MAX_LINES)
    .map(f => `${name(f.file)}: ${f.lines} lines`)
  t.same(long, [], `split these files by concern (at most ${MAX_LINES} lines each)`)
})

t.test('src/ modules import each other without a cycle', async t => {
  const graph = importGraph(sources(src))
  t.ok([...graph.values()].some(targets => targets.length > 0), 'imports were read')
  const found = cycles(graph).map(path => path.map(name).join(' → '))
  t.same(found, [], 'break these import cycles (move what both sides need to a module below them)')
})

t.test('dev tooling (src/redis/spawn.ts) is loaded by server.ts alone, for the throwaway dev Redis', async t => {
  const graph = importGraph(sources(src))
  const spawn = join(src, 'redis', 'spawn.ts')
  const importers = [...graph].filter(([, targets]) => targets.includes(spawn)).map(([file]) => name(file))
  t.same(importers, ['src/server.ts'])
})

t.test('the cycle finder names a cycle it is shown', async t => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])
  t.same(cycles(graph), [['a', 'b', 'c', 'a']])
  t.same(cycles(new Map([['a', ['b']], ['b', []]])), [])
})
