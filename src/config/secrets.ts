import { awsClientConfig } from '../adapters/aws-clients.js';

/**
 * Lambda cannot inject a Secrets Manager secret into its environment the way ECS does, so a
 * function gets the secret's ARN (JOBSHIFT_DATABASE_SECRET_ARN) and reads it once at start.
 * Returns the environment with JOBSHIFT_DATABASE_SECRET filled in.
 */
export async function withDatabaseSecret(env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const arn = env.JOBSHIFT_DATABASE_SECRET_ARN;
  if (!arn || env.JOBSHIFT_DATABASE_URL || env.JOBSHIFT_DATABASE_SECRET) return env;
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(awsClientConfig({ endpoint: env.JOBSHIFT_AWS_ENDPOINT || undefined }));
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!SecretString) throw new Error(`JOBSHIFT_DATABASE_SECRET_ARN: secret ${arn} has no SecretString`);
    return { ...env, JOBSHIFT_DATABASE_SECRET: SecretString };
  } finally {
    client.destroy();
  }
}
