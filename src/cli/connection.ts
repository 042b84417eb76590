import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createClient } from '../client/client.js';

export interface ConnectionOptions {
  url?: string;
  apiKey?: string;
  dataDir?: string;
}

export const devKeyPath = (dataDir: string) => join(dataDir, 'dev-api-key');

/** Where the CLI talks to and with which key: flags, then JOBSHIFT_* variables, then the dev key file. */
export function connect(options: ConnectionOptions, env: NodeJS.ProcessEnv = process.env) {
  const port = env.JOBSHIFT_PORT ?? env.PORT ?? '8080';
  const baseUrl = options.url ?? env.JOBSHIFT_URL ?? `http://127.0.0.1:${port}`;
  let apiKey = options.apiKey ?? env.JOBSHIFT_API_KEY;
  if (!apiKey) {
    const dataDir = resolve(options.dataDir ?? env.JOBSHIFT_DATA_DIR ?? '.jobshift');
    try {
      apiKey = readFileSync(devKeyPath(dataDir), 'utf8').trim();
    } catch {
      throw new Error(
        `no API key: pass --api-key or set JOBSHIFT_API_KEY (or start \`jobshift dev\`, which writes ${devKeyPath(dataDir)})`,
      );
    }
  }
  return createClient({ baseUrl, apiKey });
}
