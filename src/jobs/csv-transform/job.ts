import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { defineJob } from '../../core/define-job.js';
import { NonRetryableError } from '../../core/errors.js';
import { uploadRef } from '../../core/upload-ref.js';
import type { Row } from './query.js';
import { aggregateName, compileWhere, createGrouper } from './query.js';

const columnName = z.string().min(1).max(256);

export const csvTransformInput = z
  .object({
    source: uploadRef(),
    columns: z.array(columnName).min(1).optional(),
    where: z
      .array(
        z
          .object({
            column: columnName,
            op: z.enum(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'contains']),
            value: z.union([z.string(), z.number(), z.boolean()]),
          })
          .strict(),
      )
      .optional(),
    groupBy: z.array(columnName).min(1).optional(),
    aggregates: z
      .array(
        z
          .object({
            column: columnName,
            fn: z.enum(['count', 'sum', 'avg', 'min', 'max']),
            as: columnName.optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
  })
  .strict()
  .refine((input) => !(input.columns && (input.groupBy || input.aggregates)), {
    message: 'use either columns (projection) or groupBy/aggregates, not both',
    path: ['columns'],
  });

type CsvInput = z.infer<typeof csvTransformInput>;

function referencedColumns(input: CsvInput): { column: string; field: string }[] {
  return [
    ...(input.columns ?? []).map((column, i) => ({ column, field: `columns.${i}` })),
    ...(input.where ?? []).map((w, i) => ({ column: w.column, field: `where.${i}.column` })),
    ...(input.groupBy ?? []).map((column, i) => ({ column, field: `groupBy.${i}` })),
    ...(input.aggregates ?? []).filter((a) => a.column !== '*').map((a, i) => ({ column: a.column, field: `aggregates.${i}.column` })),
  ];
}

/** Streams a CSV upload through filter → projection or group-by → CSV, in bounded memory. */
export const csvTransform = defineJob({
  type: 'csv.transform',
  description: 'Filter, project and aggregate an uploaded CSV file (artifact output.csv).',
  input: csvTransformInput,
  timeoutSeconds: 3600,
  maxAttempts: 3,
  needs: { expectedDurationSeconds: 600, memoryMb: 2048, cpuHeavy: true },
  async handler(input, ctx) {
    const [{ parse }, { stringify }] = await Promise.all([import('csv-parse'), import('csv-stringify')]);
    const upload = await ctx.uploads.open(input.source.upload);
    const totalBytes = upload.info.bytes;
    const matches = compileWhere(input.where ?? []);
    const aggregating = Boolean(input.groupBy || input.aggregates);
    const grouper = aggregating ? createGrouper(input.groupBy ?? [], input.aggregates ?? []) : undefined;
    let header: string[] = [];
    let rowsIn = 0;
    let rowsOut = 0;
    let bytesRead = 0;
    let reportedPercent = -1;

    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytesRead += chunk.length;
        const percent = Math.floor((95 * bytesRead) / Math.max(1, totalBytes));
        if (percent > reportedPercent) {
          reportedPercent = percent;
          ctx.progress(percent, `${bytesRead} of ${totalBytes} bytes`);
        }
        done(null, chunk);
      },
    });
    const parser = parse({
      bom: true,
      skip_empty_lines: true,
      columns: (names: string[]) => {
        header = names;
        for (const { column, field } of referencedColumns(input)) {
          if (!names.includes(column)) {
            throw new NonRetryableError(`input.${field}: column '${column}' is not in the CSV header (${names.join(', ')})`, 'unknown_column');
          }
        }
        return names;
      },
    });
    const outColumns = () => (aggregating ? [...(input.groupBy ?? []), ...(input.aggregates ?? []).map(aggregateName)] : (input.columns ?? header));
    let headerWritten = false;
    const transform = new Transform({
      objectMode: true,
      transform(row: Row, _encoding, done) {
        try {
          if (!headerWritten) {
            headerWritten = true;
            this.push(outColumns());
          }
          rowsIn += 1;
          if (!matches(row)) return done();
          if (grouper) grouper.add(row, rowsIn + 1);
          else {
            rowsOut += 1;
            this.push(outColumns().map((c) => row[c] ?? ''));
          }
          done();
        } catch (error) {
          done(error as Error);
        }
      },
      flush(done) {
        try {
          if (!headerWritten && (header.length > 0 || aggregating)) this.push(outColumns());
          if (grouper) {
            for (const row of grouper.rows()) {
              rowsOut += 1;
              this.push(row);
            }
          }
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    });
    const output = stringify();
    const written = ctx.artifacts.write('output.csv', output, 'text/csv');
    written.catch(() => {});
    try {
      await pipeline(upload.body, counter, parser, transform, output, { signal: ctx.signal });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('CSV_')) {
        throw new NonRetryableError(`input.source: the upload is not valid CSV (${(error as Error).message})`, 'invalid_csv');
      }
      throw error;
    }
    await written;
    ctx.progress(100, `${rowsIn} rows in, ${rowsOut} rows out`);
    return { rowsIn, rowsOut };
  },
});
