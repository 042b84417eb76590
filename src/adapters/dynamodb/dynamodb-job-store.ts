import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { ConflictError, IdempotencyMismatchError, LeaseLostError, NotFoundError } from '../../core/errors.js';
import type { Job, JobStatus, LogLine, WakeUp } from '../../core/job.js';
import { isTerminal } from '../../core/job.js';
import { decodeCursor, encodeCursor } from '../../ports/cursor.js';
import type { CreateJobResult, JobStore, NewJob } from '../../ports/job-store.js';
import { translateAwsError } from '../aws-errors.js';
import { pad } from './table.js';

export interface DynamoDbJobStoreOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  clock?: Clock;
  /** Finished jobs and logs expire (DynamoDB TTL) this long after they finish. @default 30 */
  retentionDays?: number;
  /**
   * How many jobs' identities (tenant, creation time) this process keeps after creating or
   * claiming them, so their owner's later transitions write without reading the job first.
   * @default 10000
   */
  knownJobs?: number;
}

interface JobItem {
  pk: string;
  id: string;
  tenant: string;
  type: string;
  status: JobStatus;
  input: string;
  attempt: number;
  attemptsCharged: number;
  maxAttempts: number;
  timeoutSeconds: number;
  runAt: number;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  leaseExpiresAt?: number;
  workerId?: string;
  cancelRequested?: boolean;
  wokenAt?: number;
  progressPercent?: number;
  progressMessage?: string | null;
  result?: string;
  error?: string;
  artifacts: string;
  requestHash?: string;
  /** Transition log lines, appended in the same conditional update as the transition itself. */
  history?: LogLine[];
  /**
   * How many lines the job's log has, counted in the writes that add them: history entries ×
   * {@link historyUnit} + handler lines. Each handler line records it, which places the line
   * exactly among the history entries. Absent on items written before it was counted; those count
   * up from {@link uncounted}, stay negative, and list by time.
   */
  logPosition?: number;
  logSeq?: number;
}

const historyUnit = 1_000_000_000;
const uncounted = Number.MIN_SAFE_INTEGER;

/** What a transition needs to know of a job besides its fencing token; fixed for the job's life. */
type JobIdentity = Pick<JobItem, 'id' | 'tenant' | 'createdAt'>;

const jobKey = (id: string) => ({ pk: `JOB#${id}`, sk: 'JOB' });

/**
 * A job's log in the order written: each handler line goes after the history entries it counted,
 * handler lines in their own order. Items written before the count list by time (a handler line
 * in the same millisecond as a transition then follows it).
 */
function mergeLogs(history: readonly LogLine[], handlerLines: { line: LogLine; seq: number; historyBefore: number }[], counted: boolean): LogLine[] {
  if (!counted) {
    // Array.prototype.sort is stable: at equal times transitions stay ahead of handler lines.
    return [...history, ...handlerLines.map((h) => h.line)].sort((a, b) => a.at - b.at);
  }
  const merged: LogLine[] = [];
  let next = 0;
  for (const { line, historyBefore } of [...handlerLines].sort((a, b) => a.seq - b.seq)) {
    while (next < Math.min(historyBefore, history.length)) merged.push(history[next++] as LogLine);
    merged.push(line);
  }
  return merged.concat(history.slice(next));
}

const listSk = (createdAt: number, id: string) => `${pad(createdAt)}#${id}`;

const toJob = (item: JobItem): Job => ({
  id: item.id,
  tenant: item.tenant,
  type: item.type,
  status: item.status,
  input: JSON.parse(item.input),
  attempt: item.attempt,
  attemptsCharged: item.attemptsCharged,
  maxAttempts: item.maxAttempts,
  timeoutSeconds: item.timeoutSeconds,
  progress: item.progressPercent === undefined ? null : { percent: item.progressPercent, message: item.progressMessage ?? null },
  result: item.result === undefined ? null : JSON.parse(item.result),
  error: item.error === undefined ? null : JSON.parse(item.error),
  artifacts: JSON.parse(item.artifacts),
  cancelRequested: item.cancelRequested === true,
  workerId: item.workerId ?? null,
  leaseExpiresAt: item.leaseExpiresAt ?? null,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
  startedAt: item.startedAt ?? null,
  finishedAt: item.finishedAt ?? null,
  runAt: item.runAt,
});

const conditionFailed = (error: unknown) => {
  const e = error as { name?: string; CancellationReasons?: { Code?: string }[] };
  return e.name === 'ConditionalCheckFailedException' || (e.name === 'TransactionCanceledException' && e.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed'));
};

/**
 * JobStore on DynamoDB (see table.ts for the single-table design). Every transition is one
 * conditional write on the fencing token that carries its log line; reads of a job are strongly
 * consistent. A worker's transitions after its claim (complete, fail, hand back, cancel) write
 * without reading the job: the status index key needs only the job's tenant and creation time,
 * which never change and were read by the claim.
 */
export function createDynamoDbJobStore(options: DynamoDbJobStoreOptions): JobStore {
  const { client, tableName: TableName } = options;
  const clock = options.clock ?? systemClock;
  const retentionSeconds = (options.retentionDays ?? 30) * 86_400;
  const expiresAt = (ms: number) => Math.floor(ms / 1000) + retentionSeconds;
  const knownJobs = options.knownJobs ?? 10_000;
  /** Identities of jobs this process created or claimed, oldest first (a Map keeps insertion order). */
  const identities = new Map<string, JobIdentity>();
  const remember = ({ id, tenant, createdAt }: JobIdentity) => {
    identities.delete(id);
    identities.set(id, { id, tenant, createdAt });
    if (identities.size > knownJobs) identities.delete(identities.keys().next().value as string);
  };

  const send = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw translateAwsError(error);
    }
  };

  const read = async (id: string): Promise<JobItem | undefined> =>
    (await send(() => client.send(new GetCommand({ TableName, Key: jobKey(id), ConsistentRead: true })))).Item as JobItem | undefined;

  const entry = (attempt: number, at: number, message: string): LogLine => ({ at, attempt, level: 'system', message });

  /** Index attributes that follow the status: the status GSI always, the due GSI while queued/running. */
  const statusIndex = (item: JobIdentity, status: JobStatus, dueAt: number | null) => ({
    gsi2pk: `T#${item.tenant}#S#${status}`,
    gsi2sk: listSk(item.createdAt, item.id),
    ...(dueAt === null ? {} : { gsi3pk: 'DUE', gsi3sk: `${pad(dueAt)}#${item.id}` }),
  });

  /**
   * One conditional transition plus its log line. `set` maps attribute → value; `remove` lists
   * attributes to drop. The condition is the fencing token unless another is given.
   */
  const transition = async (
    item: Pick<JobItem, 'id' | 'attempt'>,
    change: {
      set: Record<string, unknown>;
      remove?: string[];
      /** attribute → number added to it (negative to subtract), computed by DynamoDB. */
      add?: Record<string, number>;
      condition?: { expression: string; values: Record<string, unknown> };
    },
    log: { attempt: number; message: string } | null,
  ) => {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(change.set).map(([attribute, value], i) => {
      names[`#s${i}`] = attribute;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
    const removes = (change.remove ?? []).map((attribute, i) => {
      names[`#r${i}`] = attribute;
      return `#r${i}`;
    });
    const adds = Object.entries(change.add ?? {}).map(([attribute, value], i) => {
      names[`#a${i}`] = attribute;
      values[`:a${i}`] = value;
      return `#a${i} :a${i}`;
    });
    const condition = change.condition ?? {
      expression: '#attempt = :attempt AND #status = :running',
      values: { ':attempt': item.attempt, ':running': 'running' },
    };
    names['#attempt'] = 'attempt';
    names['#status'] = 'status';
    if (log) {
      names['#history'] = 'history';
      names['#logPosition'] = 'logPosition';
      values[':entry'] = [entry(log.attempt, change.set.updatedAt as number, log.message)];
      values[':none'] = [];
      values[':uncounted'] = uncounted;
      values[':historyUnit'] = historyUnit;
      sets.push('#history = list_append(if_not_exists(#history, :none), :entry)');
      sets.push('#logPosition = if_not_exists(#logPosition, :uncounted) + :historyUnit');
    }
    try {
      // One conditional single-item update: the transition and its log line commit together,
      // without a transaction (half the write cost, and no cross-item coordination).
      await client.send(
        new UpdateCommand({
          TableName,
          Key: jobKey(item.id),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ...condition.values },
        }),
      );
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw translateAwsError(error);
    }
  };

  /**
   * Fenced transition of the attempt's owner: one write conditional on the token. The job is read
   * first only when this process does not know its identity (another process claimed it).
   * `finished`: the job leaves this process's hands for good.
   */
  const fenced = async (
    id: string,
    attempt: number,
    build: (job: JobIdentity, now: number) => Parameters<typeof transition>[1],
    message: string,
    finished: boolean,
  ) => {
    let job = identities.get(id);
    if (!job) {
      const item = await read(id);
      if (!item || item.attempt !== attempt || item.status !== 'running') throw new LeaseLostError(id, attempt);
      job = item;
    }
    const now = clock.now();
    const change = build(job, now);
    const ok = await transition({ id, attempt }, { ...change, set: { ...change.set, updatedAt: now } }, { attempt, message });
    if (finished) identities.delete(id);
    if (!ok) throw new LeaseLostError(id, attempt);
  };

  const terminal = (item: JobIdentity, status: JobStatus, now: number) => ({
    status,
    finishedAt: now,
    expiresAt: expiresAt(now),
    ...statusIndex(item, status, null),
  });

  const store: JobStore = {
    async createJob(job: NewJob) {
      const now = clock.now();
      const runAt = job.delayMs !== undefined ? now + job.delayMs : job.runAt;
      const item: JobItem = {
        ...jobKey(job.id),
        id: job.id,
        tenant: job.tenant,
        type: job.type,
        status: 'queued',
        input: JSON.stringify(job.input),
        attempt: 0,
        attemptsCharged: 0,
        maxAttempts: job.maxAttempts,
        timeoutSeconds: job.timeoutSeconds,
        runAt,
        createdAt: now,
        updatedAt: now,
        wokenAt: Math.max(now, runAt),
        artifacts: '[]',
        ...(job.idempotency ? { requestHash: job.idempotency.requestHash } : {}),
      };
      const indexed: JobItem & Record<string, unknown> = {
        ...item,
        sk: 'JOB',
        gsi1pk: `T#${job.tenant}`,
        gsi1sk: listSk(now, job.id),
        ...statusIndex(item, 'queued', runAt),
      };
      indexed.history = [entry(0, now, 'queued')];
      indexed.logPosition = historyUnit;
      if (!job.idempotency) {
        await send(() => client.send(new PutCommand({ TableName, Item: indexed, ConditionExpression: 'attribute_not_exists(pk)' })));
        remember(item);
        return { job: toJob(item), created: true };
      }
      const idempotencyKey = { pk: `IDEM#${job.tenant}#${job.idempotency.key}`, sk: 'IDEM' };
      const replay = async () => {
        const existing = (await send(() => client.send(new GetCommand({ TableName, Key: idempotencyKey, ConsistentRead: true })))).Item as
          | { jobId: string; requestHash: string }
          | undefined;
        if (!existing) return null;
        if (existing.requestHash !== job.idempotency?.requestHash) throw new IdempotencyMismatchError(job.idempotency?.key ?? '');
        const original = await read(existing.jobId);
        if (!original) throw new ConflictError('idempotency key is being used concurrently; retry', 'idempotency_in_progress');
        return { job: toJob(original), created: false };
      };
      // Most repeats are retries of an earlier success: answer them without a transaction.
      const earlier = await replay();
      if (earlier) return earlier;
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName,
                  Item: { ...idempotencyKey, jobId: job.id, requestHash: job.idempotency.requestHash, expiresAt: expiresAt(now) },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName, Item: indexed, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        );
        remember(item);
        return { job: toJob(item), created: true };
      } catch (error) {
        if (!conditionFailed(error)) throw translateAwsError(error);
      }
      const raced = await replay();
      if (!raced) throw new ConflictError('idempotency key is being used concurrently; retry', 'idempotency_in_progress');
      return raced;
    },

    async getJob(id, tenant) {
      const item = await read(id);
      return item && (tenant === undefined || item.tenant === tenant) ? toJob(item) : null;
    },

    async listJobs(query) {
      const byStatus = query.status !== undefined;
      const index = byStatus ? 'gsi2' : 'gsi1';
      const partition = byStatus ? `T#${query.tenant}#S#${query.status}` : `T#${query.tenant}`;
      let startKey: Record<string, unknown> | undefined;
      if (query.cursor) {
        const [createdAt, id] = decodeCursor(query.cursor);
        startKey = { ...jobKey(id), [`${index}pk`]: partition, [`${index}sk`]: listSk(createdAt, id) };
      }
      const items: JobItem[] = [];
      let more = true;
      // A type filter is applied after the key condition, so pages may need several queries to fill.
      while (items.length <= query.limit && more) {
        const page = await send(() =>
          client.send(
            new QueryCommand({
              TableName,
              IndexName: index,
              KeyConditionExpression: '#p = :p',
              ExpressionAttributeNames: { '#p': `${index}pk`, ...(query.type ? { '#type': 'type' } : {}) },
              ExpressionAttributeValues: { ':p': partition, ...(query.type ? { ':type': query.type } : {}) },
              ...(query.type ? { FilterExpression: '#type = :type' } : {}),
              ScanIndexForward: false,
              Limit: query.limit + 1,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          ),
        );
        items.push(...((page.Items ?? []) as JobItem[]));
        startKey = page.LastEvaluatedKey;
        more = startKey !== undefined;
      }
      const pageItems = items.slice(0, query.limit);
      const last = pageItems.at(-1);
      return {
        items: pageItems.map(toJob),
        nextCursor: items.length > query.limit && last ? encodeCursor([last.createdAt, last.id]) : null,
      };
    },

    async claimJob(id, { workerId, leaseMs }) {
      const item = await read(id);
      if (!item) return null;
      const now = clock.now();
      const claimable = (item.status === 'queued' && item.runAt <= now) || (item.status === 'running' && (item.leaseExpiresAt ?? 0) <= now);
      if (!claimable) return null;
      const attempt = item.attempt + 1;
      const claimed: JobItem = {
        ...item,
        status: 'running',
        attempt,
        attemptsCharged: item.attemptsCharged + 1,
        leaseExpiresAt: now + leaseMs,
        workerId,
        startedAt: item.startedAt ?? now,
        updatedAt: now,
      };
      delete claimed.wokenAt;
      const ok = await transition(
        item,
        {
          set: {
            status: 'running',
            attempt,
            attemptsCharged: claimed.attemptsCharged,
            leaseExpiresAt: claimed.leaseExpiresAt,
            workerId,
            startedAt: claimed.startedAt,
            updatedAt: now,
            ...statusIndex(item, 'running', now + leaseMs),
          },
          remove: ['wokenAt'],
          // Optimistic: nobody changed the job since it was read.
          condition: { expression: '#attempt = :attempt AND #status = :status', values: { ':attempt': item.attempt, ':status': item.status } },
        },
        { attempt, message: `claimed by ${workerId} (attempt ${attempt})` },
      );
      if (!ok) return null;
      remember(item);
      return toJob(claimed);
    },

    async renewLease(id, attempt, leaseMs) {
      const now = clock.now();
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName,
            Key: jobKey(id),
            UpdateExpression: 'SET leaseExpiresAt = :lease, updatedAt = :now, gsi3sk = :due',
            ConditionExpression: '#attempt = :attempt AND #status = :running',
            ExpressionAttributeNames: { '#attempt': 'attempt', '#status': 'status' },
            ExpressionAttributeValues: { ':lease': now + leaseMs, ':now': now, ':due': `${pad(now + leaseMs)}#${id}`, ':attempt': attempt, ':running': 'running' },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { cancelRequested: (result.Attributes as JobItem | undefined)?.cancelRequested === true };
      } catch (error) {
        if (conditionFailed(error)) throw new LeaseLostError(id, attempt);
        throw translateAwsError(error);
      }
    },

    async recordProgress(id, attempt, progress) {
      const ok = await transition({ id, attempt } as JobItem, { set: { progressPercent: progress.percent, progressMessage: progress.message, updatedAt: clock.now() } }, null);
      if (!ok) throw new LeaseLostError(id, attempt);
    },

    async appendLog(id, attempt, message) {
      const now = clock.now();
      let seq: number;
      let historyBefore: number;
      try {
        const result = await client.send(
          new UpdateCommand({
            TableName,
            Key: jobKey(id),
            UpdateExpression: 'SET logSeq = if_not_exists(logSeq, :zero) + :one, logPosition = if_not_exists(logPosition, :uncounted) + :one',
            ConditionExpression: '#attempt = :attempt AND #status = :running',
            ExpressionAttributeNames: { '#attempt': 'attempt', '#status': 'status' },
            ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':uncounted': uncounted, ':attempt': attempt, ':running': 'running' },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        seq = (result.Attributes?.logSeq as number | undefined) ?? 0;
        const position = (result.Attributes?.logPosition as number | undefined) ?? uncounted;
        historyBefore = position < 0 ? -1 : Math.floor(position / historyUnit);
      } catch (error) {
        if (conditionFailed(error)) throw new LeaseLostError(id, attempt);
        throw translateAwsError(error);
      }
      await send(() =>
        client.send(
          new PutCommand({
            TableName,
            Item: {
              pk: `JOB#${id}`,
              sk: `LOG#${pad(now)}#${String(seq).padStart(9, '0')}`,
              at: now,
              attempt,
              level: 'info',
              message,
              seq,
              historyBefore,
              expiresAt: expiresAt(now) + retentionSeconds,
            },
          }),
        ),
      );
    },

    async getLogs(id) {
      const item = await read(id);
      const history = item?.history ?? [];
      const handlerLines: { line: LogLine; seq: number; historyBefore: number }[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await send(() =>
          client.send(
            new QueryCommand({
              TableName,
              KeyConditionExpression: 'pk = :pk AND begins_with(sk, :log)',
              ExpressionAttributeValues: { ':pk': `JOB#${id}`, ':log': 'LOG#' },
              ConsistentRead: true,
              ...(startKey ? { ExclusiveStartKey: startKey } : {}),
            }),
          ),
        );
        for (const row of page.Items ?? []) {
          handlerLines.push({
            line: { at: row.at, attempt: row.attempt, level: row.level, message: row.message },
            seq: row.seq ?? 0,
            historyBefore: row.historyBefore ?? -1,
          });
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return mergeLogs(history, handlerLines, (item?.logPosition ?? uncounted) >= 0);
    },

    completeJob: (id, attempt, { result, artifacts }) =>
      fenced(
        id,
        attempt,
        (item, now) => ({
          set: { ...terminal(item, 'succeeded', now), result: JSON.stringify(result ?? null), artifacts: JSON.stringify(artifacts), progressPercent: 100 },
          remove: ['error', 'leaseExpiresAt', 'gsi3pk', 'gsi3sk'],
        }),
        'succeeded',
        true,
      ),

    failJob: (id, attempt, { error, retryAt }) =>
      retryAt === null
        ? fenced(
            id,
            attempt,
            (item, now) => ({ set: { ...terminal(item, 'failed', now), error: JSON.stringify(error) }, remove: ['leaseExpiresAt', 'gsi3pk', 'gsi3sk'] }),
            `failed: ${error.message}`,
            true,
          )
        : fenced(
            id,
            attempt,
            (item) => ({
              set: { status: 'queued', error: JSON.stringify(error), runAt: retryAt, wokenAt: retryAt, ...statusIndex(item, 'queued', retryAt) },
              remove: ['leaseExpiresAt', 'workerId'],
            }),
            `attempt ${attempt} failed: ${error.message}; retry at ${new Date(retryAt).toISOString()}`,
            false,
          ),

    releaseJob: (id, attempt, reason = 'worker shutting down') =>
      fenced(
        id,
        attempt,
        (item, now) => ({
          set: { status: 'queued', runAt: now, wokenAt: now, ...statusIndex(item, 'queued', now) },
          remove: ['leaseExpiresAt', 'workerId'],
          // A running job's attempt was charged by its claim (attemptsCharged ≥ 1): give it back.
          add: { attemptsCharged: -1 },
        }),
        `handed back (${reason})`,
        false,
      ),

    markCancelled: (id, attempt) =>
      fenced(id, attempt, (item, now) => ({ set: terminal(item, 'cancelled', now), remove: ['leaseExpiresAt', 'gsi3pk', 'gsi3sk'] }), 'cancelled', true),

    async cancelJob(id, tenant) {
      for (;;) {
        const item = await read(id);
        if (!item || item.tenant !== tenant) throw new NotFoundError(`job ${id} not found`, 'job_not_found');
        if (isTerminal(item.status)) throw new ConflictError(`job ${id} is already ${item.status} and cannot be cancelled`, 'job_finished');
        const now = clock.now();
        const queued = item.status === 'queued';
        const set = queued ? { ...terminal(item, 'cancelled', now), updatedAt: now } : { cancelRequested: true, updatedAt: now };
        const ok = await transition(
          item,
          { set, ...(queued ? { remove: ['gsi3pk', 'gsi3sk'] } : {}), condition: { expression: '#attempt = :attempt AND #status = :status', values: { ':attempt': item.attempt, ':status': item.status } } },
          { attempt: item.attempt, message: queued ? 'cancelled' : 'cancel requested' },
        );
        if (ok) return toJob({ ...item, ...(set as Partial<JobItem>) });
      }
    },

    async retryJob(id, tenant) {
      for (;;) {
        const item = await read(id);
        if (!item || item.tenant !== tenant) throw new NotFoundError(`job ${id} not found`, 'job_not_found');
        if (item.status !== 'failed' && item.status !== 'cancelled') {
          throw new ConflictError(`job ${id} is ${item.status}; only failed or cancelled jobs can be retried`, 'not_retryable');
        }
        const now = clock.now();
        const set = { status: 'queued' as const, attemptsCharged: 0, cancelRequested: false, runAt: now, wokenAt: now, updatedAt: now, ...statusIndex(item, 'queued', now) };
        const ok = await transition(
          item,
          {
            set,
            remove: ['finishedAt', 'error', 'progressPercent', 'progressMessage', 'expiresAt'],
            condition: { expression: '#attempt = :attempt AND #status = :status', values: { ':attempt': item.attempt, ':status': item.status } },
          },
          { attempt: item.attempt, message: 'retry requested' },
        );
        if (ok) {
          const { error: _e, finishedAt: _f, progressPercent: _p, progressMessage: _m, ...rest } = item;
          return toJob({ ...rest, ...set });
        }
      }
    },

    async takeDue({ limit, wakeIdleMs }) {
      const now = clock.now();
      const page = await send(() =>
        client.send(
          new QueryCommand({
            TableName,
            IndexName: 'gsi3',
            KeyConditionExpression: 'gsi3pk = :due AND gsi3sk <= :now',
            FilterExpression: 'attribute_not_exists(wokenAt) OR wokenAt <= :idle',
            ExpressionAttributeValues: { ':due': 'DUE', ':now': `${pad(now)}#~`, ':idle': now - wakeIdleMs },
            Limit: limit,
          }),
        ),
      );
      const woken: WakeUp[] = [];
      for (const item of (page.Items ?? []) as JobItem[]) {
        try {
          await client.send(
            new UpdateCommand({
              TableName,
              Key: jobKey(item.id),
              UpdateExpression: 'SET wokenAt = :now',
              ConditionExpression: '#attempt = :attempt AND #status = :status AND (attribute_not_exists(wokenAt) OR wokenAt <= :idle)',
              ExpressionAttributeNames: { '#attempt': 'attempt', '#status': 'status' },
              ExpressionAttributeValues: { ':now': now, ':attempt': item.attempt, ':status': item.status, ':idle': now - wakeIdleMs },
            }),
          );
          woken.push({ jobId: item.id, attempt: item.attempt, type: item.type });
        } catch (error) {
          if (!conditionFailed(error)) throw translateAwsError(error);
        }
      }
      return woken;
    },

    async abandonJob(id, error) {
      for (;;) {
        const item = await read(id);
        if (!item || isTerminal(item.status)) return false;
        const now = clock.now();
        const ok = await transition(
          item,
          {
            set: { ...terminal(item, 'failed', now), error: JSON.stringify(error), updatedAt: now },
            remove: ['leaseExpiresAt', 'gsi3pk', 'gsi3sk'],
            condition: { expression: '#attempt = :attempt AND #status = :status', values: { ':attempt': item.attempt, ':status': item.status } },
          },
          { attempt: item.attempt, message: `failed: ${error.message}` },
        );
        if (ok) return true;
      }
    },

    async ping() {
      await send(() => client.send(new GetCommand({ TableName, Key: { pk: 'PING', sk: 'PING' } })));
    },

    close: async () => {},

    // TransactWriteItems caps at 100 items and two per job with a key: each job is its own durable write,
    // 16 at a time, answered in order.
    async createJobs(jobs) {
      const results: CreateJobResult[] = [];
      // A key repeated within the batch is written by its first job; the later ones wait for it
      // and come back as its replays, as if sent one after another.
      const firstWithKey = new Map<string, Promise<unknown>>();
      const create = (job: NewJob) => {
        if (!job.idempotency) return store.createJob(job);
        const key = `${job.tenant}\u0000${job.idempotency.key}`;
        const earlier = firstWithKey.get(key);
        const created = earlier ? earlier.then(() => store.createJob(job), () => store.createJob(job)) : store.createJob(job);
        if (!earlier) firstWithKey.set(key, created);
        return created;
      };
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < jobs.length; i = next++) results[i] = await create(jobs[i] as NewJob);
      };
      await Promise.all(Array.from({ length: Math.min(16, jobs.length) }, lane));
      return results;
    },
  };
  return store;
}
