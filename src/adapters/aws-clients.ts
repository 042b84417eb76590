export interface AwsConnection {
  /** One endpoint override for every service (emulators such as moto). */
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Static credentials (tests); otherwise the SDK's default credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Shared client settings; each adapter builds its own client from these. */
export function awsClientConfig(connection: AwsConnection) {
  return {
    region: connection.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    maxAttempts: 3,
  };
}
