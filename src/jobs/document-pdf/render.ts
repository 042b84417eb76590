import type { Token, Tokens } from 'marked';

type Doc = PDFKit.PDFDocument;

interface Run {
  text: string;
  bold: boolean;
  italic: boolean;
  code: boolean;
  link?: string;
}

const fonts = {
  regular: 'Helvetica',
  bold: 'Helvetica-Bold',
  italic: 'Helvetica-Oblique',
  boldItalic: 'Helvetica-BoldOblique',
  mono: 'Courier',
};

const headingSizes = [22, 18, 15, 13, 12, 11];
const entities: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const decodeEntities = (text: string) => text.replace(/&(amp|lt|gt|quot|#39);/g, (m) => entities[m] ?? m);

function fontFor(run: Run): string {
  if (run.code) return fonts.mono;
  if (run.bold && run.italic) return fonts.boldItalic;
  return run.bold ? fonts.bold : run.italic ? fonts.italic : fonts.regular;
}

/** Flattens marked's inline tokens into styled runs. */
function toRuns(tokens: Token[] | undefined, style: Omit<Run, 'text'> = { bold: false, italic: false, code: false }): Run[] {
  if (!tokens) return [];
  return tokens.flatMap((token): Run[] => {
    switch (token.type) {
      case 'strong':
        return toRuns((token as Tokens.Strong).tokens, { ...style, bold: true });
      case 'em':
        return toRuns((token as Tokens.Em).tokens, { ...style, italic: true });
      case 'del':
        return toRuns((token as Tokens.Del).tokens, style);
      case 'codespan':
        return [{ ...style, code: true, text: decodeEntities((token as Tokens.Codespan).text) }];
      case 'link':
        return toRuns((token as Tokens.Link).tokens, { ...style, link: (token as Tokens.Link).href });
      case 'br':
        return [{ ...style, text: '\n' }];
      case 'text': {
        const t = token as Tokens.Text;
        return t.tokens ? toRuns(t.tokens, style) : [{ ...style, text: decodeEntities(t.text) }];
      }
      default:
        return 'text' in token && typeof token.text === 'string' ? [{ ...style, text: decodeEntities(token.text) }] : [];
    }
  });
}

function writeRuns(doc: Doc, runs: Run[], options: PDFKit.Mixins.TextOptions & { size?: number } = {}) {
  const { size = 11, ...textOptions } = options;
  const visible = runs.filter((r) => r.text.length > 0);
  if (visible.length === 0) return;
  visible.forEach((run, i) => {
    doc
      .font(fontFor(run))
      .fontSize(run.code ? size - 1 : size)
      .fillColor(run.link ? '#1a55b0' : 'black')
      .text(run.text, { ...textOptions, continued: i < visible.length - 1, ...(run.link ? { link: run.link, underline: true } : { underline: false }) });
  });
  doc.fillColor('black');
}

function renderList(doc: Doc, list: Tokens.List, depth: number) {
  const indent = doc.page.margins.left + 14 * (depth + 1);
  const width = doc.page.width - doc.page.margins.right - indent - 14;
  list.items.forEach((item, index) => {
    const start = typeof list.start === 'number' ? list.start : 1;
    const marker = list.ordered ? `${start + index}.` : '•';
    const y = doc.y;
    doc.font(fonts.regular).fontSize(11).text(marker, indent - 14, y, { width: 14, lineBreak: false });
    doc.x = indent;
    doc.y = y;
    for (const child of item.tokens) {
      if (child.type === 'list') renderList(doc, child as Tokens.List, depth + 1);
      else {
        const runs = toRuns('tokens' in child ? (child.tokens as Token[]) : undefined);
        if (runs.length > 0) writeRuns(doc, runs, { width });
        doc.x = indent;
      }
    }
    doc.x = doc.page.margins.left;
  });
  doc.moveDown(0.5);
}

function renderCode(doc: Doc, code: Tokens.Code) {
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;
  const text = code.text.length > 0 ? code.text : ' ';
  doc.font(fonts.mono).fontSize(9);
  const height = doc.heightOfString(text, { width: width - 12 }) + 8;
  if (doc.y + height < doc.page.height - doc.page.margins.bottom) {
    doc.save().rect(left, doc.y, width, height).fill('#f2f2f2').restore();
  }
  doc.fillColor('#222222').text(text, left + 6, doc.y + 4, { width: width - 12 });
  doc.fillColor('black').moveDown(0.8);
  doc.x = left;
}

/** Renders one block-level markdown token. */
export function renderBlock(doc: Doc, token: Token): void {
  const left = doc.page.margins.left;
  switch (token.type) {
    case 'heading': {
      const heading = token as Tokens.Heading;
      doc.moveDown(0.4);
      writeRuns(doc, toRuns(heading.tokens, { bold: true, italic: false, code: false }), { size: headingSizes[heading.depth - 1] ?? 11 });
      doc.moveDown(0.3);
      return;
    }
    case 'paragraph':
      writeRuns(doc, toRuns((token as Tokens.Paragraph).tokens), { align: 'left' });
      doc.moveDown(0.6);
      return;
    case 'list':
      renderList(doc, token as Tokens.List, 0);
      return;
    case 'code':
      renderCode(doc, token as Tokens.Code);
      return;
    case 'blockquote': {
      const start = doc.y;
      doc.x = left + 16;
      for (const inner of (token as Tokens.Blockquote).tokens) renderBlock(doc, inner);
      doc.save().moveTo(left + 6, start).lineTo(left + 6, doc.y - 6).lineWidth(2).stroke('#bbbbbb').restore();
      doc.x = left;
      return;
    }
    case 'hr': {
      const y = doc.y + 4;
      doc.save().moveTo(left, y).lineTo(doc.page.width - doc.page.margins.right, y).stroke('#999999').restore();
      doc.moveDown(1);
      return;
    }
    case 'table': {
      const table = token as Tokens.Table;
      const line = (cells: Tokens.TableCell[]) => cells.map((c) => decodeEntities(c.text)).join('  |  ');
      doc.font(fonts.bold).fontSize(10).text(line(table.header));
      doc.font(fonts.regular);
      for (const row of table.rows) doc.text(line(row));
      doc.moveDown(0.6);
      return;
    }
    case 'space':
      return;
    default:
      if ('text' in token && typeof token.text === 'string' && token.text.trim()) {
        doc.font(fonts.regular).fontSize(11).text(decodeEntities(token.text.replace(/<[^>]+>/g, '')));
        doc.moveDown(0.6);
      }
  }
}

/** Writes "Page i of n" in every page's bottom margin (pages must be buffered). */
export function addPageNumbers(doc: Doc): number {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const bottom = doc.page.margins.bottom;
    // Text in the margin would otherwise make PDFKit start a new page.
    doc.page.margins.bottom = 0;
    doc
      .font(fonts.regular)
      .fontSize(9)
      .fillColor('#666666')
      .text(`Page ${i + 1} of ${range.count}`, doc.page.margins.left, doc.page.height - bottom / 2 - 4, {
        width: doc.page.width - doc.page.margins.left - doc.page.margins.right,
        align: 'center',
        lineBreak: false,
      });
    doc.page.margins.bottom = bottom;
  }
  return range.count;
}
