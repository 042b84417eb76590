import { randomFillSync } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Time-ordered ids: 10 chars of millisecond time (Crockford base32) + 16 random chars,
 * so ids sort roughly by creation and never collide in practice.
 */
export function newId(prefix: string, nowMs = Date.now()): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let tail = '';
  for (const byte of randomChunk()) tail += alphabet[byte % 32];
  return `${prefix}_${time}${tail}`;
}

// One call to the CSPRNG per 256 ids instead of one per id (it dominated the submit path).
const pool = Buffer.alloc(16 * 256);
let offset = pool.length;
function randomChunk(): Buffer {
  if (offset >= pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}
