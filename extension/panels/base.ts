/**
 * What every panel controller shares: creating the WebviewPanel beside the active editor, the HTML shell
 * (../webviewHtml.ts: strict CSP, nonce, resources only from dist/webviews and media), and the typed
 * channel (src/runtime/rpc.ts) with the ready handshake: the webview says `ready`, then the controller
 * pushes its data. Restore after reload goes through the serializers in
 * index.ts, which call the same `bind` with the state the webview saved.
 */
import * as vscode from 'vscode';
import { MessageHandler } from '../../src/runtime/rpc';
import type { EventMap, RequestMap } from '../../src/runtime/rpc';
import { oneLine } from '../../src/errors';
import { webviewHtml, webviewOptions } from '../webviewHtml';

export type Channel<OutEv extends EventMap, InReq extends RequestMap, InEv extends EventMap> = MessageHandler<Record<string, [unknown, unknown]>, OutEv, InReq, InEv>;

/** Every open panel of ours (created or restored), so that new ones join their editor group. */
const openPanels = new Set<vscode.WebviewPanel>();

/**
 * A new panel in the editor group our panels already use, or beside the code when none is open (as the
 * Markdown preview does): three commands give three tabs in one group, not three cramped columns.
 */
export function createPanel(context: vscode.ExtensionContext, viewType: string, title: string): vscode.WebviewPanel {
  const group = [...openPanels].map((p) => p.viewColumn).find((c): c is vscode.ViewColumn => c !== undefined);
  return vscode.window.createWebviewPanel(viewType, title, { viewColumn: group ?? vscode.ViewColumn.Beside, preserveFocus: false }, webviewOptions(context.extensionUri));
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
  openPanels.add(panel);
  panel.onDidDispose(() => { openPanels.delete(panel); sub.dispose(); ch.dispose('panel closed'); });
  ch.onEvent('ready', () => {
    Promise.resolve(onReady(ch)).catch((e: unknown) => (ch.event as (t: 'error', p: { message: string }) => void)('error', { message: oneLine(e) }));
  });
  panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { bundle, title: panel.title });
  return ch;
}
