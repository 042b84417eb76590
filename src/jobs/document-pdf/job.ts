import { z } from 'zod';
import { defineJob } from '../../core/define-job.js';
import { addPageNumbers, renderBlock } from './render.js';

export const documentPdfInput = z
  .object({
    title: z.string().min(1).max(500),
    markdown: z.string().max(5_000_000),
  })
  .strict();

/** Markdown → PDF with headings, emphasis, lists, code blocks and page numbers; text stays extractable. */
export const documentPdf = defineJob({
  type: 'document.pdf',
  description: 'Render markdown to a PDF document (artifact document.pdf).',
  input: documentPdfInput,
  timeoutSeconds: 120,
  maxAttempts: 3,
  needs: { expectedDurationSeconds: 5, memoryMb: 512, bursty: true },
  async handler({ title, markdown }, ctx) {
    const [{ default: PDFDocument }, { Lexer }] = await Promise.all([import('pdfkit'), import('marked')]);
    const tokens = Lexer.lex(markdown, { gfm: true });
    const doc = new PDFDocument({ size: 'A4', margin: 56, bufferPages: true, info: { Title: title, Creator: 'jobshift' } });
    const written = ctx.artifacts.write('document.pdf', doc, 'application/pdf');
    // Awaited below; this only keeps an abort mid-render from surfacing as an unhandled rejection.
    written.catch(() => {});
    ctx.signal.addEventListener('abort', () => doc.destroy(), { once: true });
    doc.font('Helvetica-Bold').fontSize(24).text(title);
    doc.moveDown(0.8);
    tokens.forEach((token, i) => {
      ctx.signal.throwIfAborted();
      renderBlock(doc, token);
      if (i % 20 === 0) ctx.progress((90 * (i + 1)) / tokens.length, `rendered ${i + 1} of ${tokens.length} blocks`);
    });
    const pages = addPageNumbers(doc);
    doc.end();
    const info = await written;
    ctx.progress(100, `${pages} pages`);
    return { pages, bytes: info.bytes };
  },
});
