/**
 * What every panel controller shares: creating the WebviewPanel beside the active editor, the HTML with
 * a strict CSP (default-src 'none', a fresh nonce per render, resources only from dist/webviews and
 * media), and the typed channel (src/protocol/rpc.ts) with the ready handshake: the webview says
 * `ready`, then the controller pushes its data. Restore after reload goes through the serializers in
 * index.ts, which call the same `bind` with the state the webview saved.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { MessageHandler } from '../../src/protocol/rpc';
import type { EventMap, RequestMap } from '../../src/protocol/rpc';
import { oneLine } from '../../src/errors';

export type Channel<OutEv extends EventMap, InReq extends RequestMap, InEv extends EventMap> = MessageHandler<Record<string, [unknown, unknown]>, OutEv, InReq, InEv>;

export function resourceRoots(context: vscode.ExtensionContext): vscode.Uri[] {
  return [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews'), vscode.Uri.joinPath(context.extensionUri, 'media')];
}

export function webviewOptions(context: vscode.ExtensionContext): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  // No retainContextWhenHidden: panels restore from setState and the host's data, which costs less memory.
  return { enableScripts: true, localResourceRoots: resourceRoots(context) };
}

export function createPanel(context: vscode.ExtensionContext, viewType: string, title: string): vscode.WebviewPanel {
  return vscode.window.createWebviewPanel(viewType, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, webviewOptions(context));
}

/** The page: one stylesheet and one nonce'd script from dist/webviews/<bundle>.{css,js}. */
export function panelHtml(webview: vscode.Webview, context: vscode.ExtensionContext, bundle: string, title: string): string {
  const nonce = randomBytes(18).toString('base64');
  const asset = (ext: string): vscode.Uri => webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews', `${bundle}.${ext}`));
  const csp = [
    "default-src 'none'", `img-src ${webview.cspSource} data:`, `style-src ${webview.cspSource}`, `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`, "connect-src 'none'", "base-uri 'none'", "form-action 'none'",
  ].join('; ');
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${asset('css').toString()}">
<title>${esc(title)}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${asset('js').toString()}"></script>
</body>
</html>`;
}

/**
 * Wires a panel: HTML, channel, and `onReady` (called on every ready, i.e. after each reload of the
 * webview). Errors from onReady reach the webview as one line.
 */
export function bind<OutEv extends EventMap & { error: { message: string } }, InReq extends RequestMap, InEv extends EventMap & { ready: Record<string, never> }>(
  panel: vscode.WebviewPanel, context: vscode.ExtensionContext, bundle: string,
  onReady: (ch: Channel<OutEv, InReq, InEv>) => Promise<void> | void,
): Channel<OutEv, InReq, InEv> {
  const ch: Channel<OutEv, InReq, InEv> = new MessageHandler((msg) => { void panel.webview.postMessage(msg); });
  const sub = panel.webview.onDidReceiveMessage((m: unknown) => { void ch.receive(m); });
  panel.onDidDispose(() => { sub.dispose(); ch.dispose('panel closed'); });
  ch.onEvent('ready', () => {
    Promise.resolve(onReady(ch)).catch((e: unknown) => (ch.event as (t: 'error', p: { message: string }) => void)('error', { message: oneLine(e) }));
  });
  panel.webview.html = panelHtml(panel.webview, context, bundle, panel.title);
  return ch;
}
