import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { FeatureToHostEvents, FeatureToHostRequests, HostToFeatureEvents } from '../../src/protocol/feature';
import { connect, showError } from '../shared/host';
import { renderFeature, showPassProgress } from './view';
import type { FeatureUpdater } from './view';

const root = document.getElementById('root')!;
const ch = connect<FeatureToHostRequests, FeatureToHostEvents, HostToFeatureEvents>();
let update: FeatureUpdater | undefined;
ch.rpc.onEvent('load', ({ model, args }) => {
  ch.saveState({ args: { ...args, latent: model.latent } });
  update = renderFeature(root, model, {
    openFeature: (latent) => ch.rpc.event('openFeature', { latent }),
    annotate: async (label, note) => (await ch.rpc.request('annotate', { saeDir: args.saeDirs[0] ?? '', latent: model.latent, label, note })).savedAt,
  });
});
ch.rpc.onEvent('update', ({ model }) => update?.(model));
ch.rpc.onEvent('passProgress', ({ rowsRead, rows }) => showPassProgress(root, rowsRead, rows));
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
ch.rpc.event('ready', {});
