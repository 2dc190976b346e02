/**
 * A zlib "bomb": a valid zlib stream of `mebibytes` MiB of zeros built from one compressed 1 MiB block
 * repeated, so the test does not spend seconds deflating a gibibyte. A full flush makes each block
 * independent of the ones before it; the Adler-32 of n zero bytes is (n mod 65521) << 16 | 1.
 */
import { constants, deflateRawSync } from 'node:zlib'

export function zlibBomb (mebibytes: number): Buffer {
  const chunk = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_FULL_FLUSH, level: 9 })
  const last = deflateRawSync(Buffer.alloc(0)) // an empty final block
  const n = mebibytes * (1 << 20)
  const adler = Buffer.alloc(4)
  adler.writeUInt32BE((((n % 65521) << 16) | 1) >>> 0)
  return Buffer.concat([Buffer.from([0x78, 0xda]), ...Array.from({ length: mebibytes }, () => chunk), last, adler])
}
