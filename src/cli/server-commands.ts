import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { hashApiKey, issueApiKey } from '../api/auth.js';
import type { Config, ConfigFlags } from '../config/config.js';
import { configSettings, loadConfig } from '../config/config.js';
import { createLogger } from '../config/logger.js';
import type { Roles } from '../config/runtime.js';
import { startJobshift } from '../config/runtime.js';
import type { ApiKeyStore } from '../ports/job-store.js';
import { devKeyPath } from './connection.js';

const camel = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Adds every configuration flag (with its environment variable in the help) to a server command. */
export function withConfigFlags(command: Command): Command {
  for (const setting of configSettings) {
    command.option(`${setting.flag} <value>`, `${setting.expected} (env ${setting.env.join(' or ')})`);
  }
  return command;
}

export function configFromCommand(command: Command): Config {
  const opts = command.opts<Record<string, string | undefined>>();
  const flags: ConfigFlags = {};
  for (const setting of configSettings) {
    const value = opts[camel(setting.flag)];
    if (value !== undefined) flags[setting.key] = value;
  }
  return loadConfig(flags);
}

/** The dev key: created on first start, printed once, kept in <data-dir>/dev-api-key (0600). */
async function ensureDevApiKey(config: Config, keys: ApiKeyStore): Promise<{ key: string; created: boolean }> {
  const path = devKeyPath(config.dataDir);
  if (existsSync(path)) {
    const key = readFileSync(path, 'utf8').trim();
    const record = await keys.findApiKeyByHash(hashApiKey(key));
    if (record && record.revokedAt === null) return { key, created: false };
  }
  const { key } = await issueApiKey(keys, 'dev', 'dev key');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(path, `${key}\n`, { mode: 0o600 });
  return { key, created: true };
}

export async function runServer(command: Command, roles: Roles, name: string): Promise<void> {
  const config = configFromCommand(command);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, name });
  let devKey: { key: string; created: boolean } | undefined;
  const running = await startJobshift(config, roles, logger, async (backends) => {
    if (name === 'dev') devKey = await ensureDevApiKey(config, backends.keys);
  });
  if (devKey) {
    const { key, created } = devKey;
    const keyLine = created ? `${key}   (saved to ${devKeyPath(config.dataDir)}; shown once)` : `in ${devKeyPath(config.dataDir)}`;
    process.stdout.write(
      [
        '',
        `jobshift dev is running (data in ${config.dataDir})`,
        `  API       ${running.url}`,
        `  API key   ${keyLine}`,
        `  OpenAPI   ${running.url}/openapi.json`,
        `  Try       npx jobshift submit document.pdf --input '{"title":"Hello","markdown":"# Hi"}' --wait --download out/`,
        '',
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      logger.warn(`second ${signal}; exiting now`);
      process.exit(130);
    }
    stopping = true;
    logger.info(`${signal} received; shutting down`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
