import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { HostToSplitTreeEvents, SplitTreeRequests, SplitTreeToHostEvents } from '../../src/protocol/splitTree';
import { connect, showError } from '../shared/host';
import { SplitTreeView } from './view';
import type { SplitTreeState } from './view';

const root = document.getElementById('root')!;
const ch = connect<SplitTreeRequests, SplitTreeToHostEvents, HostToSplitTreeEvents>();
ch.rpc.onEvent('load', ({ model, args }) => {
  new SplitTreeView(root, model, {
    openFeature: (sae, latent) => ch.rpc.event('openFeature', { sae, latent }),
    saveState: (view) => ch.saveState({ args, view }),
  }, ch.state<SplitTreeState>()?.view);
});
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
ch.rpc.event('ready', {});
