/**
 * The HTML shell of every webview this extension owns (the panels in extension/panels/ and the tensor
 * editor): a strict CSP (default-src 'none', a fresh nonce per render for the one script, styles and
 * fonts only from our files, no connections, no base or form targets), resources only from dist/webviews
 * and media.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

export function resourceRoots(extensionUri: vscode.Uri): vscode.Uri[] {
  return [vscode.Uri.joinPath(extensionUri, 'dist', 'webviews'), vscode.Uri.joinPath(extensionUri, 'media')];
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  // No retainContextWhenHidden: webviews restore from setState and the host's data, which costs less memory.
  return { enableScripts: true, localResourceRoots: resourceRoots(extensionUri) };
}

export interface PageSpec {
  /** The script dist/webviews/<bundle>.js. */
  bundle: string;
  title: string;
  /** The stylesheet, as path segments under the extension; default dist/webviews/<bundle>.css. */
  stylesheet?: string[];
  /** The body before the script; default an empty #root. */
  body?: string;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: PageSpec): string {
  const nonce = randomBytes(18).toString('base64');
  const uri = (segments: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, ...segments)).toString();
  const style = uri(page.stylesheet ?? ['dist', 'webviews', `${page.bundle}.css`]);
  const script = uri(['dist', 'webviews', `${page.bundle}.js`]);
  const csp = [
    "default-src 'none'", `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`, "connect-src 'none'", "base-uri 'none'", "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
${page.body ?? '<div id="root"><p class="loading muted" role="status">Computing: reading the SAE and its activations in a worker…</p></div>'}
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
