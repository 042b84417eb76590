import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cdk from 'aws-cdk-lib';
import { JobshiftStack } from '../lib/jobshift-stack.js';
import { readSettings } from '../lib/settings.js';

const here = dirname(fileURLToPath(import.meta.url));
const app = new cdk.App({ outdir: process.env.CDK_OUTDIR ?? join(here, '../cdk.out') });

// The same placement as `jobshift plan`, when the jobshift CLI is built next door.
const cli = join(here, '../../bin/jobshift.js');
if (app.node.tryGetContext('plan') === undefined && existsSync(join(here, '../../dist/cli/main.js'))) {
  const plan = execFileSync(process.execPath, [cli, 'plan', '--json'], { encoding: 'utf8', env: { ...process.env, JOBSHIFT_LOG_LEVEL: 'error' } });
  app.node.setContext('plan', plan);
}

const settings = readSettings((key) => app.node.tryGetContext(key));
new JobshiftStack(app, 'Jobshift', settings, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
});
app.synth();
