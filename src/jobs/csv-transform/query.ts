import { NonRetryableError } from '../../core/errors.js';

export type Operator = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains';
export type AggregateFn = 'count' | 'sum' | 'avg' | 'min' | 'max';

export interface Condition {
  column: string;
  op: Operator;
  value: string | number | boolean;
}

export interface Aggregate {
  column: string;
  fn: AggregateFn;
  as?: string | undefined;
}

export type Row = Record<string, string>;

export const asNumber = (text: string): number | undefined => {
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};

function compare(cell: string, value: string | number | boolean): number {
  const a = asNumber(cell);
  const b = typeof value === 'number' ? value : typeof value === 'string' ? asNumber(value) : undefined;
  if (a !== undefined && b !== undefined) return a - b;
  const text = String(value);
  return cell < text ? -1 : cell > text ? 1 : 0;
}

const predicates: Record<Operator, (cell: string, value: Condition['value']) => boolean> = {
  eq: (cell, value) => compare(cell, value) === 0,
  ne: (cell, value) => compare(cell, value) !== 0,
  lt: (cell, value) => compare(cell, value) < 0,
  lte: (cell, value) => compare(cell, value) <= 0,
  gt: (cell, value) => compare(cell, value) > 0,
  gte: (cell, value) => compare(cell, value) >= 0,
  contains: (cell, value) => cell.includes(String(value)),
};

/** Compiles `where` into one predicate; conditions are ANDed. */
export function compileWhere(conditions: readonly Condition[]): (row: Row) => boolean {
  const tests = conditions.map(({ column, op, value }) => (row: Row) => predicates[op](row[column] ?? '', value));
  return (row) => tests.every((test) => test(row));
}

export const aggregateName = (a: Aggregate) => a.as ?? `${a.fn}_${a.column === '*' ? 'rows' : a.column}`;

interface Accumulator {
  count: number;
  sum: number;
  min: string | undefined;
  max: string | undefined;
}

const finals: Record<AggregateFn, (acc: Accumulator) => string> = {
  count: (acc) => String(acc.count),
  sum: (acc) => String(acc.sum),
  avg: (acc) => (acc.count === 0 ? '' : String(acc.sum / acc.count)),
  min: (acc) => acc.min ?? '',
  max: (acc) => acc.max ?? '',
};

/** Group-by state: memory grows with the number of groups, never with the number of rows. */
export function createGrouper(groupBy: readonly string[], aggregates: readonly Aggregate[]) {
  const groups = new Map<string, { keys: string[]; accumulators: Accumulator[] }>();
  return {
    add(row: Row, rowNumber: number) {
      const keys = groupBy.map((c) => row[c] ?? '');
      const id = JSON.stringify(keys);
      let group = groups.get(id);
      if (!group) {
        group = { keys, accumulators: aggregates.map(() => ({ count: 0, sum: 0, min: undefined, max: undefined })) };
        groups.set(id, group);
      }
      aggregates.forEach((aggregate, i) => {
        const acc = group.accumulators[i] as Accumulator;
        if (aggregate.column === '*') {
          acc.count += 1;
          return;
        }
        const cell = row[aggregate.column] ?? '';
        if (cell.trim() === '') return;
        acc.count += 1;
        if (aggregate.fn === 'sum' || aggregate.fn === 'avg') {
          const n = asNumber(cell);
          if (n === undefined) {
            throw new NonRetryableError(
              `row ${rowNumber}: column '${aggregate.column}' has '${cell}', expected a number for ${aggregate.fn}`,
              'invalid_csv_value',
            );
          }
          acc.sum += n;
        }
        if (acc.min === undefined || compare(cell, acc.min) < 0) acc.min = cell;
        if (acc.max === undefined || compare(cell, acc.max) > 0) acc.max = cell;
      });
    },
    *rows(): Generator<string[]> {
      if (groups.size === 0 && groupBy.length === 0) {
        yield aggregates.map((a) => (a.fn === 'count' || a.fn === 'sum' ? '0' : ''));
        return;
      }
      for (const { keys, accumulators } of groups.values()) {
        yield [
          ...keys,
          ...aggregates.map((aggregate, i) => finals[aggregate.fn](accumulators[i] as Accumulator)),
        ];
      }
    },
  };
}
