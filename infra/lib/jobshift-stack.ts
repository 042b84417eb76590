import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cdk from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { JobshiftSettings, Pool } from './settings.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The production architecture of ARCHITECTURE.md: ALB → API on Fargate → job store + one SQS
 * queue per worker pool (lambda, fargate, ec2) → workers running the same image or bundle.
 */
export class JobshiftStack extends cdk.Stack {
  readonly queues = new Map<Pool, { queue: sqs.Queue; dlq: sqs.Queue }>();

  constructor(scope: Construct, id: string, settings: JobshiftSettings, props?: cdk.StackProps) {
    super(scope, id, props);
    const drainSeconds = settings.apiStopTimeoutSeconds - 5;
    const usedPools = new Set<Pool>(settings.plan.map((p) => p.runtime));
    usedPools.add('fargate');
    if (!settings.ec2AmiId) usedPools.delete('ec2');

    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const repository = new ecr.Repository(this, 'Images', { imageScanOnPush: true, imageTagMutability: ecr.TagMutability.IMMUTABLE });
    const image = ecs.ContainerImage.fromEcrRepository(repository, settings.imageTag);

    // Artifacts: private, TLS only, encrypted, expiring.
    const bucket = new s3.Bucket(this, 'Artifacts', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        { prefix: 'tenants/', expiration: cdk.Duration.days(settings.artifactRetentionDays) },
        { abortIncompleteMultipartUploadAfter: cdk.Duration.days(1) },
      ],
      removalPolicy: cdk.RemovalPolicy.RETAIN,
    });

    // One queue per pool, each with a DLQ that keeps messages at least as long as its source.
    const visibility = cdk.Duration.seconds(6 * settings.lambdaTimeoutSeconds);
    for (const pool of usedPools) {
      const dlq = new sqs.Queue(this, `${pool}Dlq`, { retentionPeriod: cdk.Duration.days(14), enforceSSL: true });
      const queue = new sqs.Queue(this, `${pool}Queue`, {
        retentionPeriod: cdk.Duration.days(14),
        visibilityTimeout: visibility,
        deadLetterQueue: { queue: dlq, maxReceiveCount: settings.maxAttempts + 5 },
        enforceSSL: true,
      });
      this.queues.set(pool, { queue, dlq });
    }
    const fargateQueue = this.queues.get('fargate') as { queue: sqs.Queue; dlq: sqs.Queue };

    // Job store: DynamoDB (default) or PostgreSQL on RDS, credentials in Secrets Manager.
    const storeEnv: Record<string, string> = {};
    const storeSecrets: Record<string, ecs.Secret> = {};
    let grantStore: (grantee: cdk.aws_iam.IGrantable) => void;
    let table: dynamodb.Table | undefined;
    let database: rds.DatabaseInstance | undefined;
    if (settings.store === 'dynamodb') {
      table = new dynamodb.Table(this, 'Jobs', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        timeToLiveAttribute: 'expiresAt',
        removalPolicy: cdk.RemovalPolicy.RETAIN,
      });
      for (const index of ['gsi1', 'gsi2', 'gsi3']) {
        table.addGlobalSecondaryIndex({
          indexName: index,
          partitionKey: { name: `${index}pk`, type: dynamodb.AttributeType.STRING },
          sortKey: { name: `${index}sk`, type: dynamodb.AttributeType.STRING },
        });
      }
      const jobsTable = table;
      storeEnv.JOBSHIFT_STORE = 'dynamodb';
      storeEnv.JOBSHIFT_DYNAMODB_TABLE = table.tableName;
      grantStore = (grantee) => jobsTable.grantReadWriteData(grantee);
    } else {
      database = new rds.DatabaseInstance(this, 'Database', {
        engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
        vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        credentials: rds.Credentials.fromGeneratedSecret('jobshift'),
        multiAz: true,
        storageEncrypted: true,
        backupRetention: cdk.Duration.days(7),
        deletionProtection: true,
        instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
      });
      const secret = database.secret as cdk.aws_secretsmanager.ISecret;
      storeEnv.JOBSHIFT_STORE = 'postgres';
      storeSecrets.JOBSHIFT_DATABASE_SECRET = ecs.Secret.fromSecretsManager(secret);
      const db = database;
      grantStore = (grantee) => {
        secret.grantRead(grantee);
        if (grantee instanceof ecs.FargateService || grantee instanceof ecs.Ec2Service) db.connections.allowDefaultPortFrom(grantee);
      };
    }

    const commonEnv = (pool: Pool) => ({
      ...storeEnv,
      JOBSHIFT_QUEUE: 'sqs',
      JOBSHIFT_SQS_QUEUE: (this.queues.get(pool) ?? fargateQueue).queue.queueName,
      JOBSHIFT_SQS_DLQ: (this.queues.get(pool) ?? fargateQueue).dlq.queueName,
      JOBSHIFT_ARTIFACTS: 's3',
      JOBSHIFT_S3_BUCKET: bucket.bucketName,
      JOBSHIFT_DRAIN_SECONDS: String(drainSeconds),
      JOBSHIFT_HOST: '0.0.0.0',
      JOBSHIFT_LOG_FORMAT: 'json',
      JOBSHIFT_POOL_QUEUES: JSON.stringify(Object.fromEntries([...this.queues].map(([p, q]) => [p, q.queue.queueName]))),
    });

    // The API: Fargate behind an HTTPS ALB.
    /** A Fargate task running one jobshift command: read-only root, writable /tmp, stopTimeout = drain + 5 s. */
    const fargateTask = (id: string, command: 'api' | 'worker', size: { cpu: number; memoryLimitMiB: number }, extra: Partial<ecs.ContainerDefinitionOptions> = {}) => {
      const task = new ecs.FargateTaskDefinition(this, id, size);
      const container = task.addContainer(command, {
        image,
        command: [command],
        environment: commonEnv('fargate'),
        secrets: storeSecrets,
        readonlyRootFilesystem: true,
        stopTimeout: cdk.Duration.seconds(settings.apiStopTimeoutSeconds),
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: command }),
        ...extra,
      });
      task.addVolume({ name: 'tmp' });
      container.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
      return task;
    };
    const apiTask = fargateTask('ApiTask', 'api', { cpu: 512, memoryLimitMiB: 1024 }, { portMappings: [{ containerPort: 8080 }] });
    const api = new ecs.FargateService(this, 'Api', { cluster, taskDefinition: apiTask, desiredCount: 2, minHealthyPercent: 100 });
    for (const { queue } of this.queues.values()) queue.grantSendMessages(apiTask.taskRole);
    bucket.grantReadWrite(apiTask.taskRole);
    grantStore(apiTask.taskRole);
    if (database) database.connections.allowDefaultPortFrom(api);
    fargateQueue.dlq.grantConsumeMessages(apiTask.taskRole);

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true });
    const certificateArn = settings.certificateArn ?? new cdk.CfnParameter(this, 'CertificateArn', { type: 'String', description: 'ACM certificate for HTTPS' }).valueAsString;
    const https = alb.addListener('Https', {
      port: 443,
      certificates: [elbv2.ListenerCertificate.fromArn(certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    });
    alb.addRedirect({ sourcePort: 80, targetPort: 443, sourceProtocol: elbv2.ApplicationProtocol.HTTP, targetProtocol: elbv2.ApplicationProtocol.HTTPS });
    const target = https.addTargets('Api', {
      port: 8080,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [api],
      healthCheck: { path: '/readyz', healthyHttpCodes: '200', interval: cdk.Duration.seconds(15) },
      deregistrationDelay: cdk.Duration.seconds(Math.min(60, settings.apiStopTimeoutSeconds)),
    });
    const apiScaling = api.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 20 });
    apiScaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    apiScaling.scaleOnRequestCount('Requests', { requestsPerTarget: 500, targetGroup: target });

    // Lambda pool: short, bursty job types.
    const lambdaPool = this.queues.get('lambda');
    let worker: lambda.Function | undefined;
    if (lambdaPool) {
      const bundle = settings.lambdaAsset ?? join(here, '../../dist-lambda');
      const asset = existsSync(join(bundle, 'index.mjs')) ? bundle : join(here, '../lambda-placeholder');
      worker = new lambda.Function(this, 'LambdaWorker', {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromAsset(asset),
        timeout: cdk.Duration.seconds(settings.lambdaTimeoutSeconds),
        memorySize: 2048,
        vpc: settings.store === 'postgres' ? vpc : undefined,
        environment: { ...storeEnv, ...commonEnv('lambda'), JOBSHIFT_LEASE_SECONDS: String(settings.lambdaTimeoutSeconds + 30) },
      });
      if (asset.endsWith('lambda-placeholder')) cdk.Annotations.of(worker).addWarning('Lambda code is a placeholder: run `npx jobshift bundle-lambda` first');
      worker.addEventSource(
        new SqsEventSource(lambdaPool.queue, {
          batchSize: 10,
          maxBatchingWindow: cdk.Duration.seconds(1),
          reportBatchItemFailures: true,
          maxConcurrency: settings.lambdaMaxConcurrency,
        }),
      );
      lambdaPool.queue.grantSendMessages(worker);
      bucket.grantReadWrite(worker);
      grantStore(worker);
      if (database) database.connections.allowDefaultPortFrom(worker);
      if (database?.secret) worker.addEnvironment('JOBSHIFT_DATABASE_SECRET_ARN', database.secret.secretArn);
    }

    // Fargate pool: long or CPU-heavy job types; scales on backlog per task.
    const workerTask = fargateTask('WorkerTask', 'worker', { cpu: 2048, memoryLimitMiB: 4096 });
    const fargateWorkers = new ecs.FargateService(this, 'FargateWorkers', { cluster, taskDefinition: workerTask, desiredCount: 1 });
    this.grantWorker(workerTask.taskRole, fargateQueue, bucket, grantStore);
    if (database) database.connections.allowDefaultPortFrom(fargateWorkers);
    const backlog = new cloudwatch.MathExpression({
      expression: 'visible / IF(tasks > 0, tasks, 1)',
      usingMetrics: {
        visible: fargateQueue.queue.metricApproximateNumberOfMessagesVisible({ period: cdk.Duration.minutes(1) }),
        tasks: new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: fargateWorkers.serviceName },
          period: cdk.Duration.minutes(1),
        }),
      },
      label: 'backlog per task',
    });
    fargateWorkers.autoScaleTaskCount({ minCapacity: 1, maxCapacity: 50 }).scaleOnMetric('BacklogPerTask', {
      metric: backlog,
      scalingSteps: [
        { upper: 2, change: -1 },
        { lower: 10, change: +1 },
        { lower: 50, change: +5 },
      ],
      adjustmentType: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    });

    // EC2 pool (optional): GPU / host agents, same image on instances from a purpose-built AMI.
    const ec2Pool = this.queues.get('ec2');
    if (ec2Pool && settings.ec2AmiId) {
      const group = new autoscaling.AutoScalingGroup(this, 'Ec2Capacity', {
        vpc,
        instanceType: new ec2.InstanceType(settings.ec2InstanceType),
        machineImage: ec2.MachineImage.genericLinux({ [this.region]: settings.ec2AmiId }),
        minCapacity: 0,
        maxCapacity: 10,
        requireImdsv2: true,
      });
      const provider = new ecs.AsgCapacityProvider(this, 'Ec2Provider', { autoScalingGroup: group, enableManagedTerminationProtection: false });
      cluster.addAsgCapacityProvider(provider);
      const ec2Task = new ecs.Ec2TaskDefinition(this, 'Ec2WorkerTask');
      ec2Task.addContainer('worker', {
        image,
        command: ['worker'],
        memoryLimitMiB: 8192,
        gpuCount: 1,
        environment: commonEnv('ec2'),
        secrets: storeSecrets,
        stopTimeout: cdk.Duration.seconds(settings.apiStopTimeoutSeconds),
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'ec2-worker' }),
      });
      const ec2Workers = new ecs.Ec2Service(this, 'Ec2Workers', {
        cluster,
        taskDefinition: ec2Task,
        desiredCount: 0,
        capacityProviderStrategies: [{ capacityProvider: provider.capacityProviderName, weight: 1 }],
      });
      this.grantWorker(ec2Task.taskRole, ec2Pool, bucket, grantStore);
      if (database) database.connections.allowDefaultPortFrom(ec2Workers);
    }

    // Alarms and a dashboard.
    const alarms: cloudwatch.Alarm[] = [];
    for (const [pool, { queue, dlq }] of this.queues) {
      alarms.push(
        new cloudwatch.Alarm(this, `${pool}DlqNotEmpty`, {
          metric: dlq.metricApproximateNumberOfMessagesVisible({ period: cdk.Duration.minutes(1) }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          alarmDescription: `jobs of the ${pool} pool reached the dead-letter queue`,
        }),
        new cloudwatch.Alarm(this, `${pool}OldestMessage`, {
          metric: queue.metricApproximateAgeOfOldestMessage({ period: cdk.Duration.minutes(1) }),
          threshold: 900,
          evaluationPeriods: 3,
          alarmDescription: `the ${pool} pool is falling behind`,
        }),
      );
    }
    const fiveXx = new cloudwatch.MathExpression({
      expression: '100 * errors / IF(requests > 0, requests, 1)',
      usingMetrics: {
        errors: alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: cdk.Duration.minutes(1) }),
        requests: alb.metrics.requestCount({ period: cdk.Duration.minutes(1) }),
      },
      label: '5xx %',
    });
    alarms.push(new cloudwatch.Alarm(this, 'Api5xxRate', { metric: fiveXx, threshold: 1, evaluationPeriods: 5, alarmDescription: 'API 5xx above 1%' }));
    new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ alarms, title: 'jobshift alarms', width: 24 })],
        [
          new cloudwatch.GraphWidget({ title: 'API 5xx %', left: [fiveXx] }),
          new cloudwatch.GraphWidget({ title: 'Fargate backlog per task', left: [backlog] }),
          new cloudwatch.GraphWidget({
            title: 'Queue depth',
            left: [...this.queues.values()].map(({ queue }) => queue.metricApproximateNumberOfMessagesVisible()),
          }),
        ],
      ],
    });

    new cdk.CfnOutput(this, 'ApiUrl', { value: `https://${alb.loadBalancerDnsName}` });
    new cdk.CfnOutput(this, 'ImageRepository', { value: repository.repositoryUri });
    new cdk.CfnOutput(this, 'ImageTag', { value: settings.imageTag });
  }

  /** Least privilege for a worker: its own pool's queue and DLQ, the bucket, the store. */
  private grantWorker(
    role: cdk.aws_iam.IRole,
    pool: { queue: sqs.Queue; dlq: sqs.Queue },
    bucket: s3.Bucket,
    grantStore: (grantee: cdk.aws_iam.IGrantable) => void,
  ) {
    pool.queue.grantConsumeMessages(role);
    pool.queue.grantSendMessages(role);
    pool.dlq.grantConsumeMessages(role);
    bucket.grantReadWrite(role);
    bucket.grantDelete(role);
    grantStore(role);
  }
}
