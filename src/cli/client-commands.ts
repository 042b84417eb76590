import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { JobshiftClient, JobView, SubmitRequest } from '../client/client.js';
import { ApiError, terminal } from '../client/client.js';
import type { ConnectionOptions } from './connection.js';
import { connect } from './connection.js';
import { createProgressPrinter, formatProgress } from './progress.js';

const contentTypes: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
};

const print = (value: unknown): void => {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
};

function withConnection(command: Command): Command {
  return command
    .option('--url <url>', 'API base URL (env JOBSHIFT_URL; default http://127.0.0.1:$PORT or 8080)')
    .option('--api-key <key>', 'API key (env JOBSHIFT_API_KEY; default: <data-dir>/dev-api-key)')
    .option('--data-dir <dir>', 'where `jobshift dev` keeps its data and dev key (env JOBSHIFT_DATA_DIR)');
}

const clientOf = (command: Command) => connect(command.optsWithGlobals<ConnectionOptions>());

async function uploadFile(client: JobshiftClient, path: string, contentType?: string) {
  const { size } = statSync(path);
  const type = contentType ?? contentTypes[extname(path).toLowerCase()] ?? 'application/octet-stream';
  return client.upload(createReadStream(path), type, size);
}

function parseInput(options: { input?: string; inputFile?: string }): Record<string, unknown> {
  const text = options.inputFile ? readFileSync(options.inputFile, 'utf8') : (options.input ?? '{}');
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new Error(`--input: expected a JSON object, got ${JSON.stringify(text.slice(0, 80))} (${(error as Error).message})`);
  }
}

export async function downloadArtifacts(client: JobshiftClient, job: JobView, dir: string, only?: string) {
  await mkdir(dir, { recursive: true });
  const chosen = job.artifacts.filter((a) => !only || a.name === only);
  if (only && chosen.length === 0) throw new Error(`job ${job.id} has no artifact '${only}' (has: ${job.artifacts.map((a) => a.name).join(', ') || 'none'})`);
  for (const artifact of chosen) {
    const response = await client.download(job.id, artifact.name);
    const target = join(dir, basename(artifact.name));
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(target));
    process.stderr.write(`saved ${target} (${artifact.bytes} bytes)\n`);
  }
}

async function waitAndReport(client: JobshiftClient, id: string): Promise<JobView> {
  const printer = createProgressPrinter();
  const job = await client.waitForJob(id, { onUpdate: (j) => printer.update(j) });
  printer.done();
  return job;
}

export function registerClientCommands(program: Command): void {
  withConnection(program.command('submit <type>'))
    .description('submit a job; with --wait, follow it to the end (exit 1 if it fails)')
    .option('-i, --input <json>', 'job input as a JSON object', '{}')
    .option('--input-file <path>', 'read the job input from a JSON file')
    .option('-f, --file <field=path...>', 'upload a file and put {"upload": id} at this input field (e.g. source=photo.jpg)')
    .option('--delay-seconds <n>', 'run no earlier than n seconds from now')
    .option('--max-attempts <n>', 'override the job type default')
    .option('--timeout-seconds <n>', 'override the job type default')
    .option('--idempotency-key <key>', 'submitting again with the same key returns the same job')
    .option('-w, --wait', 'wait for the job, showing progress')
    .option('-d, --download <dir>', 'with --wait: save the artifacts to this directory')
    .option('--json', 'print the job as JSON')
    .action(async (type: string, opts, command: Command) => {
      const client = clientOf(command);
      const input = parseInput(opts);
      for (const spec of (opts.file as string[] | undefined) ?? []) {
        const [field, path] = spec.split(/=(.*)/s);
        if (!field || !path) throw new Error(`--file: expected field=path, got '${spec}'`);
        const upload = await uploadFile(client, path);
        input[field] = { upload: upload.id };
      }
      const body: SubmitRequest = { type, input };
      if (opts.delaySeconds !== undefined) body.delaySeconds = Number(opts.delaySeconds);
      if (opts.maxAttempts !== undefined) body.maxAttempts = Number(opts.maxAttempts);
      if (opts.timeoutSeconds !== undefined) body.timeoutSeconds = Number(opts.timeoutSeconds);
      const job = await client.submit(body, opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {});
      if (!opts.wait) {
        print(opts.json ? job : job.id);
        return;
      }
      process.stderr.write(`submitted ${job.id}\n`);
      const done = await waitAndReport(client, job.id);
      if (opts.json) print(done);
      if (done.status !== 'succeeded') {
        process.stderr.write(`job ${done.id} ${done.status}${done.error ? `: ${done.error.message}` : ''}\n`);
        process.exitCode = 1;
        return;
      }
      if (!opts.json) print(done.result);
      if (opts.download) await downloadArtifacts(client, done, opts.download);
    });

  withConnection(program.command('submit-batch <file>'))
    .description('submit many jobs from a JSON Lines file (one {"type", "input", ...} per line; - for stdin), 1,000 per request')
    .option('--json', 'print the jobs as JSON lines instead of their ids')
    .action(async (file: string, opts, command: Command) => {
      const client = clientOf(command);
      const text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
      const lines = text.split('\n').map((line, i) => ({ line: i + 1, text: line.trim() })).filter((l) => l.text !== '');
      const jobs = lines.map(({ line, text: json }) => {
        try {
          const value = JSON.parse(json) as unknown;
          if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
          return value as SubmitRequest & { idempotencyKey?: string };
        } catch (error) {
          throw new Error(`${file}:${line}: expected a JSON object like {"type": "document.pdf", "input": {...}} (${(error as Error).message})`);
        }
      });
      if (jobs.length === 0) throw new Error(`${file}: no jobs (expected one JSON object per line)`);
      const printer = process.stderr.isTTY ? (done: number) => process.stderr.write(`\rsubmitted ${done}/${jobs.length}`) : () => {};
      for (let start = 0; start < jobs.length; start += 1000) {
        const chunk = jobs.slice(start, start + 1000);
        const accepted = await client.submitBatch(chunk).catch((error: unknown) => {
          // The API names the job by its place in the request (jobs.3.input.title): say which line that is.
          if (error instanceof ApiError && typeof error.problem.field === 'string') {
            const at = /^jobs\.(\d+)\.?(.*)$/.exec(error.problem.field);
            if (at) throw new Error(`${file}:${lines[start + Number(at[1])]?.line}: ${error.problem.detail.replace(/^jobs\.\d+\./, '')}`);
          }
          throw error;
        });
        for (const job of accepted.items) print(opts.json ? JSON.stringify(job) : job.id);
        printer(start + chunk.length);
      }
      if (process.stderr.isTTY) process.stderr.write('\n');
    });

  withConnection(program.command('status <id>'))
    .description("show a job's status, progress, result and artifacts")
    .option('--json', 'print the job as JSON')
    .action(async (id: string, opts, command: Command) => {
      const job = await clientOf(command).getJob(id);
      if (opts.json) return print(job);
      print(`${job.id}  ${job.type}\n${formatProgress(job)}`);
      if (job.result !== null) print(`result: ${JSON.stringify(job.result)}`);
      for (const a of job.artifacts) print(`artifact: ${a.name} (${a.contentType}, ${a.bytes} bytes)`);
    });

  withConnection(program.command('list'))
    .description('list jobs, newest first')
    .option('--status <status>', 'queued, running, succeeded, failed or cancelled')
    .option('--type <type>', 'only this job type')
    .option('--limit <n>', 'page size (1-100)', '20')
    .option('--cursor <cursor>', 'next page (printed after a full page)')
    .option('--json', 'print the page as JSON')
    .action(async (opts, command: Command) => {
      const page = await clientOf(command).listJobs({ status: opts.status, type: opts.type, limit: Number(opts.limit), cursor: opts.cursor });
      if (opts.json) return print(page);
      for (const job of page.items) print(`${job.id}  ${job.status.padEnd(9)}  ${job.type.padEnd(16)}  ${job.createdAt}`);
      if (page.nextCursor) print(`next page: --cursor ${page.nextCursor}`);
    });

  withConnection(program.command('logs <id>'))
    .description("print a job's log")
    .option('--follow', 'keep printing new lines until the job ends')
    .action(async (id: string, opts, command: Command) => {
      const client = clientOf(command);
      let shown = 0;
      for (;;) {
        const { items } = await client.logs(id);
        for (const line of items.slice(shown)) print(`${line.at}  #${line.attempt}  ${line.level.padEnd(6)}  ${line.message}`);
        shown = items.length;
        if (!opts.follow || terminal.has((await client.getJob(id)).status)) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

  for (const action of ['cancel', 'retry'] as const) {
    withConnection(program.command(`${action} <id>`))
      .description(action === 'cancel' ? 'cancel a queued or running job' : 'retry a failed or cancelled job')
      .action(async (id: string, _opts, command: Command) => {
        const client = clientOf(command);
        const job = action === 'cancel' ? await client.cancel(id) : await client.retry(id);
        print(`${job.id} ${job.status}${job.cancelRequested && job.status === 'running' ? ' (cancel requested)' : ''}`);
      });
  }

  withConnection(program.command('download <id> [name]'))
    .description("save a job's artifacts (or only [name])")
    .option('-o, --out <dir>', 'directory to save into', '.')
    .action(async (id: string, name: string | undefined, opts, command: Command) => {
      const client = clientOf(command);
      await downloadArtifacts(client, await client.getJob(id), opts.out, name);
    });

  withConnection(program.command('upload <file>'))
    .description('upload a file; prints its id to use as {"upload": id} in job input')
    .option('--content-type <type>', 'default: from the file extension')
    .option('--json', 'print the upload as JSON')
    .action(async (file: string, opts, command: Command) => {
      const upload = await uploadFile(clientOf(command), file, opts.contentType);
      print(opts.json ? upload : upload.id);
    });
}
