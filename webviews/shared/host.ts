/**
 * The webview end of a panel's channel: acquireVsCodeApi, the rpc.ts MessageHandler over postMessage,
 * the ready handshake, and setState/getState for view state and restore.
 */
import { MessageHandler } from '../../src/runtime/rpc';
import type { EventMap, RequestMap } from '../../src/runtime/rpc';
import type { PanelState } from '../../src/protocol/panels';

interface VsCodeApi { postMessage(msg: unknown): void; getState(): unknown; setState(state: unknown): void }
declare function acquireVsCodeApi(): VsCodeApi;

export interface Channel<OutReq extends RequestMap, OutEv extends EventMap, InEv extends EventMap> {
  rpc: MessageHandler<OutReq, OutEv, Record<string, [unknown, unknown]>, InEv>;
  state<V>(): PanelState<V> | undefined;
  saveState<V>(state: PanelState<V>): void;
}

export function connect<OutReq extends RequestMap, OutEv extends EventMap, InEv extends EventMap>(): Channel<OutReq, OutEv, InEv> {
  const api = acquireVsCodeApi();
  const rpc = new MessageHandler<OutReq, OutEv, Record<string, [unknown, unknown]>, InEv>((m) => api.postMessage(m));
  window.addEventListener('message', (e: MessageEvent) => { void rpc.receive(e.data); });
  return {
    rpc,
    state: <V>() => (api.getState() as PanelState<V> | undefined) ?? undefined,
    saveState: (s) => api.setState(s),
  };
}

/** Shows a one-line error from the host at the top of the page. */
export function showError(root: HTMLElement, message: string): void {
  let bar = root.querySelector<HTMLElement>('.error-bar');
  if (!bar) {
    bar = document.createElement('div');
    bar.className = 'error-bar';
    bar.setAttribute('role', 'alert');
    root.prepend(bar);
  }
  bar.textContent = message;
}
