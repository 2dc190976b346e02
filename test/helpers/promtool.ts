/** Runs promtool (Debian package `prometheus`; only the checker is used, never the server) with stdin. */
import { spawn } from 'node:child_process'

export interface ToolResult { code: number | null, output: string }

export function promtool (args: string[], stdin = ''): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (c: Buffer) => { output += c.toString() })
    child.stderr.on('data', (c: Buffer) => { output += c.toString() })
    child.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT'
      ? new Error('promtool not found: install it (apt-get install -y prometheus; scripts/packages/test.txt)')
      : err))
    child.once('close', code => resolve({ code, output }))
    child.stdin.end(stdin)
  })
}
