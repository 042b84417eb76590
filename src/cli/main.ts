import { Command, CommanderError } from 'commander';
import { issueApiKey } from '../api/auth.js';
import { ApiError } from '../client/client.js';
import { ConfigError } from '../config/config.js';
import { openBackends } from '../config/compose.js';
import { initAws, initPostgres } from '../config/init.js';
import { loadRegistry } from '../config/load-jobs.js';
import { formatPlan, planRegistry } from '../core/plan.js';
import { registerClientCommands } from './client-commands.js';
import { configFromCommand, runServer, withConfigFlags } from './server-commands.js';

const program = new Command('jobshift')
  .description('Asynchronous jobs: an HTTP API, workers, and a CLI. Embedded by default (SQLite + local files).')
  .version('0.1.0')
  .showHelpAfterError();

withConfigFlags(program.command('dev'))
  .description('run the API, a worker and the reconciler in one process (creates a dev API key on first start)')
  .action((_opts, command: Command) => runServer(command, { api: true, worker: true, reconciler: true }, 'dev'));

withConfigFlags(program.command('api'))
  .description('run the HTTP API (and the reconciler)')
  .option('--no-reconciler', 'do not run the reconciler in this process')
  .action((opts, command: Command) => runServer(command, { api: true, worker: false, reconciler: opts.reconciler !== false }, 'api'));

withConfigFlags(program.command('worker'))
  .description('run a worker: claims jobs and runs their handlers (--concurrency at once)')
  .option('--no-reconciler', 'do not run the reconciler in this process')
  .action((opts, command: Command) => runServer(command, { api: false, worker: true, reconciler: opts.reconciler !== false }, 'worker'));

registerClientCommands(program);

const report = (line: string) => process.stdout.write(`${line}\n`);
withConfigFlags(program.command('init'))
  .description('create the queues (with DLQ), table and bucket (--aws) or the schema (--postgres) the configuration names; idempotent')
  .option('--aws', 'SQS queue + DLQ, DynamoDB table (GSIs, TTL), S3 bucket, for the backends configured as sqs/dynamodb/s3')
  .option('--postgres', 'run the PostgreSQL migrations')
  .action(async (opts: { aws?: boolean; postgres?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const usesPostgres = config.store === 'postgres' || config.queue === 'postgres';
    const usesAws = config.queue === 'sqs' || config.store === 'dynamodb' || config.artifacts === 's3';
    const aws = opts.aws ?? (!opts.postgres && usesAws);
    const postgres = opts.postgres ?? (!opts.aws && usesPostgres);
    if (!aws && !postgres) throw new Error('nothing to initialise: configure a postgres, sqs, dynamodb or s3 backend (see --help), or pass --aws / --postgres');
    if (aws) await initAws(config, await loadRegistry(config.jobsModule), report);
    if (postgres) await initPostgres(config, report);
  });

withConfigFlags(program.command('plan'))
  .description('print where each configured job type runs (lambda, fargate or ec2) and why')
  .option('--json', 'print the plan as JSON')
  .action(async (opts: { json?: boolean }, command: Command) => {
    const config = configFromCommand(command);
    const plan = planRegistry(await loadRegistry(config.jobsModule));
    process.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  });

withConfigFlags(program.command('bundle-lambda'))
  .description('build the AWS Lambda deployment package (esbuild bundle with your job types, handler "index.handler")')
  .option('--out <dir>', 'output directory', 'dist-lambda')
  .option('--zip <file>', 'also write the zip to upload', 'dist-lambda.zip')
  .action(async (opts: { out: string; zip: string }, command: Command) => {
    const config = configFromCommand(command);
    const { bundleLambda } = await import('../config/bundle-lambda.js');
    await bundleLambda({ jobsModule: config.jobsModule, outDir: opts.out, zipPath: opts.zip, report });
  });

withConfigFlags(program.command('migrate'))
  .description('run the PostgreSQL migrations for --database-url / JOBSHIFT_DATABASE_URL')
  .action(async (_opts, command: Command) => {
    const config = configFromCommand(command);
    if (!config.databaseUrl) throw new Error('--database-url / JOBSHIFT_DATABASE_URL: required for migrate');
    await initPostgres(config, report);
  });

const keys = program.command('keys').description('manage API keys (works on the data directory / store directly)');
const adminAction =
  (run: (backends: Awaited<ReturnType<typeof openBackends>>, opts: Record<string, string | undefined>, ...args: string[]) => Promise<void>) =>
  async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const backends = await openBackends(configFromCommand(command));
    try {
      await run(backends, command.opts(), ...(args.slice(0, -2) as string[]));
    } finally {
      await backends.close();
    }
  };
withConfigFlags(keys.command('create'))
  .description('create a key for a tenant; the key is printed once')
  .requiredOption('--tenant <tenant>', 'tenant the key belongs to')
  .option('--name <name>', 'a label for the key')
  .action(
    adminAction(async (backends, opts) => {
      const { key, record } = await issueApiKey(backends.keys, opts.tenant ?? '', opts.name ?? null);
      process.stdout.write(`${key}\n`);
      process.stderr.write(`created ${record.id} for tenant ${record.tenant}; store the key now, it is not shown again\n`);
    }),
  );
withConfigFlags(keys.command('list'))
  .description('list keys (ids and tenants, never the secrets)')
  .option('--tenant <tenant>', 'only this tenant')
  .action(
    adminAction(async (backends, opts) => {
      for (const k of await backends.keys.listApiKeys(opts.tenant)) {
        const state = k.revokedAt === null ? 'active' : `revoked ${new Date(k.revokedAt).toISOString()}`;
        process.stdout.write(`${k.id}  ${k.tenant}  ${k.name ?? ''}  ${new Date(k.createdAt).toISOString()}  ${state}\n`);
      }
    }),
  );
withConfigFlags(keys.command('revoke <id>'))
  .description('revoke a key by id')
  .action(
    adminAction(async (backends, _opts, id) => {
      if (!(await backends.keys.revokeApiKey(id ?? ''))) throw new Error(`no API key with id '${id}'`);
      process.stdout.write(`revoked ${id}\n`);
    }),
  );

program.exitOverride();
try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const message = error instanceof ConfigError || error instanceof ApiError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`jobshift: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
