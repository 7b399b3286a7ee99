/**
 * The self-contained HTML report: one file holding the report webview's bundled JS and CSS (codicon
 * font inlined as a data: URL) and the model (typed arrays base64'd, see codec.ts) in a non-executable
 * <script type="application/json">. A strict CSP meta allows exactly that script and that style by
 * their SHA-256 hashes: no network, no other files, nothing else runs.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { InputError } from '../errors';
import { writeFileAtomic } from '../io/atomic';
import { encodeModel } from './codec';
import type { ReportModel } from '../protocol/viewModels';

export interface ReportAssets { js: string; css: string }

/** Where the built webview bundles are: beside the CLI/extension bundle, or the repo's dist/. */
export function webviewDistDir(): string {
  const candidates = [
    join(__dirname, '..', 'webviews'), // dist/cli/cli.js -> dist/webviews
    join(__dirname, '..', '..', 'dist', 'webviews'), // src/views/html.ts under tsx
    join(process.cwd(), 'dist', 'webviews'),
  ];
  const found = candidates.find((d) => existsSync(join(d, 'report.js')));
  if (!found) throw new InputError('dist/webviews/report.js', 'the report bundle is missing; run `npm run bundle` first');
  return found;
}

/** Reads report.js/report.css and inlines the fonts the CSS refers to. */
export function loadReportAssets(dir = webviewDistDir()): ReportAssets {
  const js = readFileSync(join(dir, 'report.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '');
  let css = readFileSync(join(dir, 'report.css'), 'utf8').replace(/\n\/\*# sourceMappingURL=.*\*\/\s*$/m, '');
  const fonts = new Set(readdirSync(dir).filter((f) => f.endsWith('.ttf')));
  css = css.replace(/url\("?\.\/([^")?#]+\.ttf)(\?[^")]*)?"?\)/g, (whole, name: string) => {
    if (!fonts.has(name)) return whole;
    return `url("data:font/ttf;base64,${readFileSync(join(dir, name)).toString('base64')}")`;
  });
  return { js, css };
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function escapeHtmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The report page. Data can hold any text (labels, tokens): `<` is escaped inside the JSON. */
export function reportHtml(model: ReportModel, assets: ReportAssets, theme: 'dark' | 'light' = 'dark'): string {
  // Inline script/style must not be able to close their elements early.
  const js = assets.js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  const css = assets.css.replace(/<\/(style)/gi, '<\\/$1');
  const data = encodeModel(model).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  const csp = [
    "default-src 'none'", `script-src ${sha256(js)}`, `style-src ${sha256(css)}`, 'font-src data:', 'img-src data:',
    "base-uri 'none'", "form-action 'none'",
  ].join('; ');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtmlText(model.title)}</title>`,
    `<style>${css}</style>`,
    '</head>',
    `<body class="vscode-${theme} report">`,
    '<div id="root"></div>',
    `<script type="application/json" id="report-data">${data}</script>`,
    `<script>${js}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Writes the report atomically (an existing report is replaced only when the new one is complete). */
export function writeReport(path: string, model: ReportModel, assets = loadReportAssets()): number {
  if (!existsSync(dirname(path) || '.')) throw new InputError(path, 'the output folder does not exist');
  const html = reportHtml(model, assets);
  writeFileAtomic(path, html);
  return Buffer.byteLength(html);
}
