import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { NonRetryableError } from '../../core/errors.js';
import { createJobHarness } from '../harness.test-util.js';

const regions = ['north', 'south', 'east', 'west'];
const rows = Array.from({ length: 5000 }, (_, i) => ({
  id: String(i),
  region: regions[(i * 7) % 4] as string,
  product: i % 3 === 0 ? 'widget, large' : 'gadget',
  amount: ((i * 37) % 1000) / 10,
  qty: (i * 13) % 9,
}));
const csv = ['id,region,product,amount,qty', ...rows.map((r) => `${r.id},${r.region},"${r.product}",${r.amount},${r.qty}`)].join('\n');

const readCsv = async (h: ReturnType<typeof createJobHarness>, key: string) => parse(await h.read(key), { columns: true }) as Record<string, string>[];

describe('csv.transform', () => {
  it('groups and aggregates, matching values computed independently', async () => {
    const h = createJobHarness();
    const upload = await h.upload(csv, 'text/csv');
    const { result, artifacts, progress } = await h.run('csv.transform', {
      source: { upload },
      where: [{ column: 'qty', op: 'gte', value: 2 }],
      groupBy: ['region'],
      aggregates: [
        { column: 'amount', fn: 'sum', as: 'total' },
        { column: 'amount', fn: 'avg' },
        { column: 'qty', fn: 'max' },
        { column: 'id', fn: 'count', as: 'n' },
        { column: 'amount', fn: 'min' },
      ],
    });
    const out = await readCsv(h, artifacts[0]?.key as string);
    const kept = rows.filter((r) => r.qty >= 2);
    expect(result).toEqual({ rowsIn: 5000, rowsOut: 4 });
    expect(Object.keys(out[0] ?? {})).toEqual(['region', 'total', 'avg_amount', 'max_qty', 'n', 'min_amount']);
    for (const region of regions) {
      const group = kept.filter((r) => r.region === region);
      const row = out.find((r) => r.region === region);
      const total = group.reduce((s, r) => s + r.amount, 0);
      expect(Number(row?.total)).toBeCloseTo(total, 6);
      expect(Number(row?.avg_amount)).toBeCloseTo(total / group.length, 6);
      expect(Number(row?.max_qty)).toBe(Math.max(...group.map((r) => r.qty)));
      expect(Number(row?.min_amount)).toBe(Math.min(...group.map((r) => r.amount)));
      expect(Number(row?.n)).toBe(group.length);
    }
    expect(progress.at(-1)).toMatchObject({ percent: 100 });
  });

  it('filters and projects columns, keeping quoted values intact', async () => {
    const h = createJobHarness();
    const upload = await h.upload(csv, 'text/csv');
    const { result, artifacts } = await h.run('csv.transform', {
      source: { upload },
      columns: ['id', 'product'],
      where: [
        { column: 'product', op: 'contains', value: 'large' },
        { column: 'region', op: 'eq', value: 'north' },
      ],
    });
    const out = await readCsv(h, artifacts[0]?.key as string);
    const expected = rows.filter((r) => r.product.includes('large') && r.region === 'north');
    expect(result).toEqual({ rowsIn: 5000, rowsOut: expected.length });
    expect(out).toEqual(expected.map((r) => ({ id: r.id, product: r.product })));
  });

  it('fails without retry on unknown columns, non-numeric sums and malformed CSV', async () => {
    const h = createJobHarness();
    const upload = await h.upload(csv, 'text/csv');
    await expect(h.run('csv.transform', { source: { upload }, columns: ['nope'] })).rejects.toThrow(/input.columns.0: column 'nope'/);
    const bad = await h.upload('a,b\n1,x\n', 'text/csv');
    const error = await h.run('csv.transform', { source: { upload: bad }, aggregates: [{ column: 'b', fn: 'sum' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect((error as Error).message).toMatch(/row 2: column 'b' has 'x'/);
    const broken = await h.upload('a,b\n"1,2\n', 'text/csv');
    await expect(h.run('csv.transform', { source: { upload: broken } })).rejects.toBeInstanceOf(NonRetryableError);
    await expect(h.run('csv.transform', { source: { upload }, where: [{ column: 'a', op: 'like', value: 1 }] })).rejects.toThrow(/op/);
  });
});
