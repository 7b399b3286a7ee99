/**
 * Keeps an open feature page in step with the whole-data pass running in the panels' worker: the
 * progress bar moves on every report, and the parts of the page the pass fills in are rebuilt every few
 * seconds and once more when the pass ends.
 */
import type * as vscode from 'vscode';
import type { FeatureToHostEvents, FeatureToHostRequests, HostToFeatureEvents } from '../../src/protocol/feature';
import type { PanelArgs } from '../../src/protocol/panels';
import { oneLine } from '../../src/errors';
import type { Channel } from './base';
import type { PanelDataProvider } from './data';

/** Least time between two rebuilds of a page while its pass runs. */
const REBUILD_MS = 4000;

export function followFeaturePass(data: PanelDataProvider, args: PanelArgs, ch: Channel<HostToFeatureEvents, FeatureToHostRequests, FeatureToHostEvents>): vscode.Disposable | undefined {
  if (!data.onFeaturePass) return undefined;
  const saeDir = args.saeDirs[0]!;
  let last = Date.now(), busy = false, again = false;
  const rebuild = (): void => {
    if (busy) { again = true; return; }
    busy = true;
    last = Date.now();
    data.feature(saeDir, args.latent ?? 0, args.activations)
      .then((model) => ch.event('update', { model }), (e: unknown) => ch.event('error', { message: oneLine(e) }))
      .finally(() => { busy = false; if (again) { again = false; rebuild(); } });
  };
  const sub = data.onFeaturePass((p) => {
    if (p.saeDir !== saeDir || (args.activations !== undefined && p.activations !== args.activations)) return;
    if (p.error) { ch.event('error', { message: p.error }); sub.dispose(); return; }
    ch.event('passProgress', { rowsRead: p.rowsRead, rows: p.rows });
    if (p.complete) { rebuild(); sub.dispose(); } else if (Date.now() - last >= REBUILD_MS) rebuild();
  });
  return sub;
}
