export type Pool = 'lambda' | 'fargate' | 'ec2';
export const pools: readonly Pool[] = ['lambda', 'fargate', 'ec2'];

export interface PlannedType {
  type: string;
  runtime: Pool;
  reason: string;
}

/** Everything the stack is parameterised by; read from CDK context (cdk.json or -c key=value). */
export interface JobshiftSettings {
  store: 'dynamodb' | 'postgres';
  /** ECR tag of the image to run: the git SHA, so a deploy is auditable and a rollback is a re-deploy of an older tag. */
  imageTag: string;
  /** ACM certificate for the HTTPS listener; without it the stack takes a parameter. */
  certificateArn?: string;
  /** AMI for the optional ECS-on-EC2 capacity (e.g. the ECS GPU-optimized AMI); no EC2 pool without it. */
  ec2AmiId?: string;
  ec2InstanceType: string;
  /** Largest maxAttempts of any job type; SQS maxReceiveCount is this + 5. */
  maxAttempts: number;
  lambdaTimeoutSeconds: number;
  lambdaMaxConcurrency: number;
  /** Directory with the `jobshift bundle-lambda` output. */
  lambdaAsset?: string;
  /** ECS stopTimeout of API and workers; jobshift's drain budget is this minus 5 s. */
  apiStopTimeoutSeconds: number;
  artifactRetentionDays: number;
  /** Where each job type runs (`jobshift plan --json`). */
  plan: PlannedType[];
}

/** The built-in types' placement, used when no plan is given. */
export const builtinPlan: PlannedType[] = [
  { type: 'document.pdf', runtime: 'lambda', reason: 'short and bursty' },
  { type: 'image.thumbnail', runtime: 'lambda', reason: 'short and bursty' },
  { type: 'csv.transform', runtime: 'fargate', reason: 'CPU-heavy' },
];

export function readSettings(context: (key: string) => unknown): JobshiftSettings {
  const text = (key: string) => {
    const value = context(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const integer = (key: string, fallback: number) => {
    const raw = context(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`context ${key}: expected a positive integer, got '${String(raw)}'`);
    return value;
  };
  const store = text('store') ?? 'dynamodb';
  if (store !== 'dynamodb' && store !== 'postgres') throw new Error(`context store: expected dynamodb or postgres, got '${store}'`);
  const planRaw = context('plan');
  const plan = typeof planRaw === 'string' ? (JSON.parse(planRaw) as PlannedType[]) : Array.isArray(planRaw) ? (planRaw as PlannedType[]) : builtinPlan;
  for (const p of plan) {
    if (!pools.includes(p.runtime)) throw new Error(`context plan: type ${p.type} has unknown runtime '${p.runtime}'`);
  }
  const lambdaTimeoutSeconds = integer('lambdaTimeoutSeconds', 300);
  if (lambdaTimeoutSeconds > 900) throw new Error('context lambdaTimeoutSeconds: at most 900 (Lambda limit)');
  return {
    store,
    imageTag: text('imageTag') ?? 'dev',
    ...(text('certificateArn') ? { certificateArn: text('certificateArn') as string } : {}),
    ...(text('ec2AmiId') ? { ec2AmiId: text('ec2AmiId') as string } : {}),
    ec2InstanceType: text('ec2InstanceType') ?? 'g5.xlarge',
    maxAttempts: integer('maxAttempts', 3),
    lambdaTimeoutSeconds,
    lambdaMaxConcurrency: integer('lambdaMaxConcurrency', 20),
    ...(text('lambdaAsset') ? { lambdaAsset: text('lambdaAsset') as string } : {}),
    apiStopTimeoutSeconds: integer('apiStopTimeoutSeconds', 30),
    artifactRetentionDays: integer('artifactRetentionDays', 30),
    plan,
  };
}
