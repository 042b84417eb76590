import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const problemsOf = (run: () => unknown): string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig', () => {
  it('has zero-config embedded defaults', () => {
    const config = loadConfig({}, {}, '/srv/app');
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      dataDir: '/srv/app/.jobshift',
      store: 'sqlite',
      queue: 'sqlite',
      artifacts: 'fs',
      concurrency: 4,
      leaseSeconds: 30,
      heartbeatSeconds: 10,
      drainSeconds: 25,
      jobsModule: null,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads JOBSHIFT_* and PORT, and flags win over variables', () => {
    const config = loadConfig({ port: '9000' }, { PORT: '7000', JOBSHIFT_CONCURRENCY: '8', JOBSHIFT_DATA_DIR: '/data' }, '/');
    expect(config).toMatchObject({ port: 9000, concurrency: 8, dataDir: '/data' });
    expect(loadConfig({}, { PORT: '7000' }, '/').port).toBe(7000);
  });

  it('reports every bad value at once, naming the flag, the variable and what was expected', () => {
    const problems = problemsOf(() => loadConfig({ port: 'http' }, { JOBSHIFT_LEASE_SECONDS: '-1', JOBSHIFT_STORE: 'mongo' }, '/'));
    expect(problems).toEqual([
      "--port: expected an integer from 0 to 65535, got 'http'",
      "JOBSHIFT_LEASE_SECONDS (--lease-seconds): expected seconds, at least 1, got '-1'",
      "JOBSHIFT_STORE (--store): expected sqlite, postgres or dynamodb, got 'mongo'",
    ]);
  });

  it('requires what a chosen backend cannot do without', () => {
    const problems = problemsOf(() => loadConfig({}, { JOBSHIFT_STORE: 'dynamodb', JOBSHIFT_QUEUE: 'sqs', JOBSHIFT_ARTIFACTS: 's3' }, '/'));
    expect(problems).toEqual([
      '--sqs-queue / JOBSHIFT_SQS_QUEUE: required when the queue is sqs',
      '--dynamodb-table / JOBSHIFT_DYNAMODB_TABLE: required when the store is dynamodb',
      '--s3-bucket / JOBSHIFT_S3_BUCKET: required when artifacts are on s3',
    ]);
    expect(problemsOf(() => loadConfig({}, { JOBSHIFT_QUEUE: 'postgres', JOBSHIFT_DATABASE_URL: 'mysql://u:secret@h/db' }, '/'))).toEqual([
      "--database-url / JOBSHIFT_DATABASE_URL: expected a postgres:// connection URL, got 'mysql://u:***@h/db'",
    ]);
    expect(loadConfig({}, { JOBSHIFT_QUEUE: 'sqs', JOBSHIFT_SQS_QUEUE: 'jobs' }, '/').sqsDeadLetterQueue).toBe('jobs-dlq');
  });

  it('builds the database URL from an RDS secret injected by ECS', () => {
    const secret = JSON.stringify({ username: 'jobshift', password: 'p@ss word', host: 'db.internal', port: 5432, dbname: 'jobs' });
    expect(loadConfig({}, { JOBSHIFT_STORE: 'postgres', JOBSHIFT_DATABASE_SECRET: secret }, '/').databaseUrl).toBe(
      'postgres://jobshift:p%40ss%20word@db.internal:5432/jobs',
    );
    expect(problemsOf(() => loadConfig({}, { JOBSHIFT_STORE: 'postgres', JOBSHIFT_DATABASE_SECRET: '{}' }, '/'))[0]).toMatch(/JOBSHIFT_DATABASE_SECRET/);
  });

  it('keeps heartbeats shorter than the lease', () => {
    expect(problemsOf(() => loadConfig({ leaseSeconds: '5', heartbeatSeconds: '5' }, {}, '/'))).toEqual([
      '--heartbeat-seconds (5) must be shorter than --lease-seconds (5)',
    ]);
  });

  it('names a missing jobs module', () => {
    expect(problemsOf(() => loadConfig({ jobsModule: 'nope.ts' }, {}, '/tmp'))).toEqual([
      "--jobs / JOBSHIFT_JOBS: expected an existing module, '/tmp/nope.ts' does not exist",
    ]);
  });
});
