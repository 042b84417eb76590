import type { LogFields, Logger } from '../core/logger.js';
import type { LogLevel } from './config.js';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Logs to stderr: one JSON object a line, or a readable line on a terminal. */
export function createLogger(options: { level: LogLevel; format: 'json' | 'pretty'; name: string }): Logger {
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (rank[level] < rank[options.level]) return;
    if (options.format === 'json') {
      process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, name: options.name, message, ...fields })}\n`);
      return;
    }
    const extra = fields && Object.keys(fields).length > 0 ? ` ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}` : '';
    process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${level.padEnd(5)} [${options.name}] ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
