import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { FeaturesRequests, FeaturesToHostEvents, HostToFeaturesEvents } from '../../src/protocol/features';
import type { PanelArgs } from '../../src/protocol/panels';
import { connect, showError } from '../shared/host';
import { FeatureBrowser } from './view';
import type { BrowserState } from './view';

const root = document.getElementById('root')!;
const ch = connect<FeaturesRequests, FeaturesToHostEvents, HostToFeaturesEvents>();
ch.rpc.onEvent('load', ({ model, args }: { model: import('../../src/protocol/viewModels').DictionaryModel; args: PanelArgs }) => {
  const previous = ch.state<BrowserState>();
  new FeatureBrowser(root, model, {
    openFeature: (latent) => ch.rpc.event('openFeature', { latent }),
    compare: (latents) => ch.rpc.event('compare', { latents }),
    saveState: (view) => ch.saveState({ args, view }),
  }, previous?.view ?? (args.latents?.length ? { selected: args.latents } : undefined));
});
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
ch.rpc.event('ready', {});
