/** Test certificates made with openssl at test time: a CA, a server certificate for 127.0.0.1/localhost, a client certificate, and a second CA that signed nothing. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

interface TapLike { teardown: (fn: () => unknown) => void }

export interface TestCerts {
  dir: string
  ca: string
  otherCa: string
  serverCert: string
  serverKey: string
  clientCert: string
  clientKey: string
}

function openssl (args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl not found: install it (apt-get install -y openssl)')
    throw err
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

function selfSignedCa (dir: string, name: string): void {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=result-gateway test ${name}`], dir)
}

function signed (dir: string, name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext)
  openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir)
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir)
}

export function makeCerts (t: TapLike): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'rg-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  selfSignedCa(dir, 'ca')
  selfSignedCa(dir, 'other-ca')
  signed(dir, 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n')
  signed(dir, 'client', 'result-gateway', 'extendedKeyUsage=clientAuth\n')
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    otherCa: join(dir, 'other-ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key')
  }
}

/** redis-server arguments for a TLS-only server on `port` (mutual TLS when `clientAuth`). */
export function tlsServerArgs (certs: TestCerts, port: number, clientAuth: boolean): string[] {
  return ['--port', '0', '--tls-port', String(port), '--tls-cert-file', certs.serverCert, '--tls-key-file', certs.serverKey,
    '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', clientAuth ? 'yes' : 'no']
}
