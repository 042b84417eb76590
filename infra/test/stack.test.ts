import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { JobshiftStack } from '../lib/jobshift-stack.js';
import type { JobshiftSettings } from '../lib/settings.js';
import { builtinPlan, readSettings } from '../lib/settings.js';

const base: JobshiftSettings = readSettings((key) => ({ imageTag: 'abc1234', certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/x' })[key]);

function synth(overrides: Partial<JobshiftSettings> = {}) {
  const app = new cdk.App();
  const stack = new JobshiftStack(app, 'Test', { ...base, ...overrides }, { env: { account: '111111111111', region: 'us-east-1' } });
  return { stack, template: Template.fromStack(stack) };
}

const resourcesOf = (template: Template, type: string) => Object.values(template.findResources(type)) as { Properties: Record<string, unknown> }[];

describe('JobshiftStack', () => {
  const { template } = synth();

  it('terminates HTTPS at the ALB and redirects HTTP to it', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: base.certificateArn }],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
  });

  it('health-checks the API on /readyz, drains within 60 s, and agrees stopTimeout with the drain budget', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/readyz',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Command: ['api'],
          StopTimeout: 30,
          ReadonlyRootFilesystem: true,
          Environment: Match.arrayWith([{ Name: 'JOBSHIFT_DRAIN_SECONDS', Value: '25' }]),
        }),
      ],
    });
  });

  it('scales the API on CPU and request count, and Fargate workers on backlog per task', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { PolicyType: 'StepScaling' });
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
    assert.ok(alarms.some((a) => JSON.stringify(a.Properties.Metrics ?? '').includes('visible / IF(tasks > 0, tasks, 1)')));
  });

  it('gives every pool a queue with a 14-day DLQ, maxReceiveCount = maxAttempts + 5 and visibility ≥ 6 × the Lambda timeout', () => {
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const sources = queues.filter((q) => q.Properties.RedrivePolicy);
    assert.equal(sources.length, 2, 'lambda and fargate pools for the built-in plan');
    for (const q of sources) {
      assert.equal(q.Properties.MessageRetentionPeriod, 14 * 86_400);
      assert.equal((q.Properties.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount, base.maxAttempts + 5);
      assert.ok((q.Properties.VisibilityTimeout as number) >= 6 * base.lambdaTimeoutSeconds);
    }
    for (const dlq of queues.filter((q) => !q.Properties.RedrivePolicy)) assert.ok((dlq.Properties.MessageRetentionPeriod as number) >= 14 * 86_400);
  });

  it('wires the Lambda worker to its queue with partial batch responses and a concurrency cap', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: base.lambdaMaxConcurrency },
      BatchSize: 10,
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Timeout: base.lambdaTimeoutSeconds });
  });

  it('keeps the store on on-demand DynamoDB with point-in-time recovery, TTL and the three indexes', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1' }), Match.objectLike({ IndexName: 'gsi2' }), Match.objectLike({ IndexName: 'gsi3' })],
    });
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
  });

  it('locks the artifact bucket down: no public access, TLS only, encrypted, expiring', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.anyValue(),
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'tenants/', ExpirationInDays: base.artifactRetentionDays })]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('grants least privilege: the API sends but never receives; workers consume only their own pool', () => {
    const policies = resourcesOf(template, 'AWS::IAM::Policy').map((p) => ({
      name: JSON.stringify(p.Properties.Roles),
      statements: (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    }));
    const apiPolicy = policies.find((p) => p.name.includes('ApiTaskTaskRole'));
    assert.ok(apiPolicy);
    const apiActions = apiPolicy.statements.flatMap((s) => [s.Action].flat());
    assert.ok(apiActions.includes('sqs:SendMessage'));
    const apiReceives = apiPolicy.statements.filter((s) => [s.Action].flat().includes('sqs:ReceiveMessage'));
    assert.ok(apiReceives.every((s) => JSON.stringify(s.Resource).includes('fargateDlq')), 'the API only reads the DLQ (dead-letter reader)');
    const workerPolicy = policies.find((p) => p.name.includes('WorkerTaskTaskRole'));
    assert.ok(workerPolicy);
    const receive = workerPolicy.statements.filter((s) => [s.Action].flat().includes('sqs:ReceiveMessage'));
    assert.ok(receive.length > 0);
    assert.ok(receive.every((s) => !JSON.stringify(s.Resource).includes('lambdaQueue')), 'Fargate workers cannot drain the Lambda pool');
  });

  it('alarms on DLQ messages, oldest message age and the 5xx rate, with a dashboard', () => {
    const descriptions = resourcesOf(template, 'AWS::CloudWatch::Alarm').map((a) => a.Properties.AlarmDescription as string);
    assert.ok(descriptions.some((d) => d.includes('dead-letter')));
    assert.ok(descriptions.some((d) => d.includes('falling behind')));
    assert.ok(descriptions.some((d) => d.includes('5xx')));
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('runs the image by its git SHA tag from an immutable repository', () => {
    template.hasResourceProperties('AWS::ECR::Repository', { ImageTagMutability: 'IMMUTABLE' });
    const defs = resourcesOf(template, 'AWS::ECS::TaskDefinition');
    assert.ok(defs.every((d) => JSON.stringify(d.Properties.ContainerDefinitions).includes(':abc1234')));
  });

  it('adds the EC2 capacity only with an AMI, and routes ec2-placed types to it', () => {
    synth().template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
    const withGpu = synth({ ec2AmiId: 'ami-0123456789abcdef0', plan: [...builtinPlan, { type: 'render.gpu', runtime: 'ec2', reason: 'GPU' }] }).template;
    withGpu.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    withGpu.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ ResourceRequirements: [{ Type: 'GPU', Value: '1' }] })],
    });
    assert.equal(resourcesOf(withGpu, 'AWS::SQS::Queue').filter((q) => q.Properties.RedrivePolicy).length, 3);
  });

  it('omits the Lambda pool when the plan puts nothing there', () => {
    const { template: fargateOnly } = synth({ plan: [{ type: 'csv.transform', runtime: 'fargate', reason: 'CPU-heavy' }] });
    fargateOnly.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('switches to RDS PostgreSQL with credentials from Secrets Manager, never in plain environment', () => {
    const { template: pg } = synth({ store: 'postgres' });
    pg.resourceCountIs('AWS::DynamoDB::Table', 0);
    pg.hasResourceProperties('AWS::RDS::DBInstance', { Engine: 'postgres', StorageEncrypted: true, MultiAZ: true });
    pg.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Command: ['api'], Secrets: [Match.objectLike({ Name: 'JOBSHIFT_DATABASE_SECRET' })] })],
    });
    const env = JSON.stringify(resourcesOf(pg, 'AWS::ECS::TaskDefinition').map((d) => d.Properties.ContainerDefinitions));
    assert.ok(!env.includes('JOBSHIFT_DATABASE_URL'));
  });

  it('warns when the Lambda package is still the placeholder', () => {
    const { stack } = synth({ lambdaAsset: '/nonexistent' });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('placeholder'));
  });

  it('rejects impossible settings with the context key named', () => {
    assert.throws(() => readSettings((k) => ({ store: 'mysql' })[k]), /context store: expected dynamodb or postgres/);
    assert.throws(() => readSettings((k) => ({ lambdaTimeoutSeconds: 1200 })[k]), /at most 900/);
  });
});
