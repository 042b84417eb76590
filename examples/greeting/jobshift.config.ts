// A complete user-defined job type. Start jobshift from this folder (it finds
// jobshift.config.ts by itself) or anywhere with `--jobs path/to/jobshift.config.ts`.
import { NonRetryableError, defineJob, z } from 'jobshift';

export const greetingCard = defineJob({
  type: 'greeting.card',
  description: 'Writes a personalised greeting as a text file.',
  input: z
    .object({
      name: z.string().min(1).max(100),
      language: z.enum(['en', 'fr', 'de']).default('en'),
      repeat: z.number().int().min(1).max(1000).default(1),
    })
    .strict(),
  timeoutSeconds: 30,
  maxAttempts: 5,
  backoff: { initialDelaySeconds: 2, maxDelaySeconds: 60 },
  needs: { expectedDurationSeconds: 1, bursty: true },
  async handler({ name, language, repeat }, ctx) {
    const hello = { en: 'Hello', fr: 'Bonjour', de: 'Hallo' }[language];
    if (name.toLowerCase() === 'nobody') throw new NonRetryableError('input.name: nobody to greet');
    const lines: string[] = [];
    for (let i = 0; i < repeat; i++) {
      ctx.signal.throwIfAborted(); // stop promptly on timeout, cancel or shutdown
      lines.push(`${hello}, ${name}! (${i + 1}/${repeat})`);
      ctx.progress(((i + 1) / repeat) * 100, `line ${i + 1} of ${repeat}`);
    }
    ctx.log(`greeted ${name} ${repeat} time(s)`);
    const file = await ctx.artifacts.write('greeting.txt', `${lines.join('\n')}\n`, 'text/plain');
    return { lines: repeat, bytes: file.bytes };
  },
});

export default [greetingCard];
