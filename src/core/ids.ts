import { randomBytes } from 'node:crypto';

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
  const random = randomBytes(16);
  let tail = '';
  for (const byte of random) tail += alphabet[byte % 32];
  return `${prefix}_${time}${tail}`;
}
