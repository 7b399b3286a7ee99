/**
 * "Compare SAEs…": a side-by-side Markdown comparison of several SAEs' facts (Export Report writes the
 * self-contained HTML report of src/views). Plain TypeScript over plain data: unit-tested without VS Code.
 */
import type { SaeFacts } from './saeFacts';

/** Text from files goes into table cells: no pipes, no newlines, no HTML. */
export function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;')).replace(/\r?\n/g, ' ').trim();
}

function num(v: number | undefined, digits: number): string {
  return v === undefined ? '—' : v.toFixed(digits);
}

export function compareMarkdown(saes: readonly SaeFacts[]): string {
  const row = (label: string, get: (f: SaeFacts) => string) => `| ${label} | ${saes.map((f) => get(f)).join(' | ')} |`;
  return [
    '# SAE comparison',
    '',
    `| | ${saes.map((f) => mdCell(f.name)).join(' | ')} |`,
    `|---|${saes.map(() => '---').join('|')}|`,
    row('architecture', (f) => mdCell(f.architecture) + (f.k !== undefined ? ` (k=${f.k})` : '')),
    row('latents', (f) => f.dSae.toLocaleString('en-US')),
    row('d_in', (f) => String(f.dIn)),
    row('hook', (f) => (f.hookName ? `\`${mdCell(f.hookName)}\`` : '—')),
    row('explained variance', (f) => num(f.explainedVariance, 4)),
    row('L0', (f) => num(f.l0, 2)),
    '',
    saes.every((f) => f.dIn === saes[0]!.dIn) ? 'All share d_in, so their atoms can be matched: the feature-split tree shows how latents split across widths.' : 'These SAEs have different d_in: their atoms live in different spaces and cannot be matched.',
    '',
  ].join('\n');
}
