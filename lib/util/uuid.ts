import { randomFillSync } from 'node:crypto';

/**
 * Random (version 4) UUIDs for request ids, one per request. crypto.randomUUID builds each from
 * nineteen string concatenations, about half a kilobyte of garbage per poll; these are written
 * into one small buffer and read out as a single string. The bytes come from the same CSPRNG,
 * drawn 4 KiB at a time.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;
const out = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 random bytes goes in xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
out[8] = out[13] = out[18] = out[23] = 0x2d; // '-'

/** A new random UUID, lower-case, as crypto.randomUUID() gives. */
export function randomId(): string {
  if (offset + 16 > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  for (let i = 0; i < 16; i++) {
    let b = pool[offset + i]!;
    // The version nibble (4) and the variant bits (10xx).
    if (i === 6) b = (b & 0x0f) | 0x40;
    else if (i === 8) b = (b & 0x3f) | 0x80;
    const at = AT[i]!;
    out[at] = HEX[b >> 4]!;
    out[at + 1] = HEX[b & 0x0f]!;
  }
  offset += 16;
  return out.toString('latin1');
}
