import { describe, expect, it } from 'vitest';
import { createJobHarness, extractPdfText } from '../harness.test-util.js';

const markdown = `# Quarterly report

Revenue grew by **twelve percent** and *costs* fell. Inline \`code\` too.

## Highlights

- First bullet
- Second bullet with **bold**
  - Nested item

1. One
2. Two

\`\`\`
const answer = 42;
\`\`\`

> A quoted remark.
`;

describe('document.pdf', () => {
  it('renders headings, emphasis, lists and code as extractable text with page numbers', async () => {
    const h = createJobHarness();
    const { result, artifacts, progress } = await h.run('document.pdf', { title: 'Annual Summary', markdown });
    expect(artifacts).toHaveLength(1);
    expect(artifacts[0]).toMatchObject({ name: 'document.pdf', contentType: 'application/pdf' });
    const pdf = await h.read(artifacts[0]?.key as string);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const pages = await extractPdfText(pdf);
    expect(result).toMatchObject({ pages: pages.length });
    const text = pages.join(' ').replace(/\s+/g, ' ');
    for (const expected of ['Annual Summary', 'Quarterly report', 'twelve percent', 'Highlights', 'First bullet', 'Nested item', 'const answer = 42;', 'A quoted remark.']) {
      expect(text).toContain(expected);
    }
    expect(text).toContain('Page 1 of 1');
    expect(progress.at(-1)?.percent).toBe(100);
  });

  it('numbers every page of a long document', async () => {
    const h = createJobHarness();
    const long = Array.from({ length: 120 }, (_, i) => `Paragraph number ${i} with enough words to take up a line or two of space on the page.`).join('\n\n');
    const { result, artifacts } = await h.run('document.pdf', { title: 'Long', markdown: long });
    const pages = await extractPdfText(await h.read(artifacts[0]?.key as string));
    expect(pages.length).toBeGreaterThan(2);
    expect(result).toEqual({ pages: pages.length, bytes: artifacts[0]?.bytes });
    for (const [i, page] of pages.entries()) expect(page).toContain(`Page ${i + 1} of ${pages.length}`);
    expect(pages.join(' ')).toContain('Paragraph number 119');
  });

  it('rejects extra or missing fields', async () => {
    const h = createJobHarness();
    await expect(h.run('document.pdf', { title: 'x', markdown: 'y', color: 'red' })).rejects.toThrow(/color/);
    await expect(h.run('document.pdf', { title: 'x' })).rejects.toThrow(/markdown/);
  });
});
