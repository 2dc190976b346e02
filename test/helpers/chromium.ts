/**
 * Debian's headless Chromium driven by puppeteer-core: a temporary profile, closed (and its process killed by
 * pid if it lingers) and the profile removed in t.teardown. Fails, never skips, when Chromium is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser } from 'puppeteer-core'

export const CHROMIUM = '/usr/bin/chromium'

interface TapLike { teardown: (fn: () => unknown) => void }

export async function launchChromium (t: TapLike): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install chromium (apt-get install chromium; listed in scripts/packages/test.txt)`)
  const profile = mkdtempSync(join(tmpdir(), 'rg-chromium-'))
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    userDataDir: profile,
    // Root in a container: no sandbox. No GPU, no first-run UI, /tmp instead of a small /dev/shm.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check', '--disable-extensions'],
    // A loaded 2-core machine starts Chromium slowly; this bounds the launch, it measures nothing.
    timeout: 90_000,
    protocolTimeout: 90_000
  })
  const pid = browser.process()?.pid
  t.teardown(async () => {
    await browser.close().catch(() => {})
    if (pid !== undefined) {
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
    rmSync(profile, { recursive: true, force: true })
  })
  return browser
}
