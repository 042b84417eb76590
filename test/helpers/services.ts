import { randomBytes } from 'node:crypto';

/** Connection to the test PostgreSQL, or undefined when it is not running (suites skip then, never in CI). */
export const testDatabaseUrl = process.env.JOBSHIFT_TEST_DATABASE_URL;
export const testAwsEndpoint = process.env.JOBSHIFT_TEST_AWS_ENDPOINT;
export const skipReason = (what: string) => `${what} is not running here (bash scripts/services.sh install)`;

/** A fresh name per test so state never leaks between tests and a failure leaves its state to inspect. */
export const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

export const testAws = {
  endpoint: testAwsEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};
