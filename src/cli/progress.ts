import type { JobView } from '../client/client.js';

const width = 24;

/** One status line: a bar, percent, status, message. */
export function formatProgress(job: JobView): string {
  const percent = job.status === 'succeeded' ? 100 : job.progress.percent;
  const filled = Math.round((percent / 100) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  const attempt = job.attempts > 1 ? ` attempt ${job.attempts}/${job.maxAttempts}` : '';
  const message = job.error && job.status !== 'succeeded' ? job.error.message : (job.progress.message ?? '');
  return `[${bar}] ${percent.toFixed(0).padStart(3)}% ${job.status}${attempt}${message ? `  ${message}` : ''}`;
}

/** Live progress: rewrites one line on a terminal, prints a line per change otherwise. */
export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  const tty = stream.isTTY === true;
  return {
    update(job: JobView) {
      const line = formatProgress(job);
      if (tty) stream.write(`\r\x1b[K${line.slice(0, Math.max(20, (stream.columns ?? 100) - 1))}`);
      else stream.write(`${line}\n`);
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}
