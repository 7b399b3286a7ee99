import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { AtomMapRequests, AtomMapToHostEvents, HostToAtomMapEvents } from '../../src/protocol/atomMap';
import type { PanelArgs } from '../../src/protocol/panels';
import { clear, h } from '../shared/dom';
import { connect, showError } from '../shared/host';
import { renderAtomMap } from './view';
import type { AtomMapView } from './view';

const root = document.getElementById('root')!;
const ch = connect<AtomMapRequests, AtomMapToHostEvents, HostToAtomMapEvents>();
let args: PanelArgs | undefined = ch.state()?.args;
let view: AtomMapView | undefined = ch.state<AtomMapView>()?.view;
const status = h('p', 'muted atom-progress', 'Laying out the atoms…');
root.append(status);
ch.rpc.onEvent('progress', ({ stage, fraction }) => {
  status.textContent = `Laying out the atoms: ${stage} ${Math.round(fraction * 100)}%`;
});
ch.rpc.onEvent('load', ({ model, args: a }) => {
  args = a;
  ch.saveState({ args, view });
  renderAtomMap(root, model, {
    openFeature: (latent, sae) => ch.rpc.event('openFeature', { latent, sae }),
    openBrowser: (sae, latents) => ch.rpc.event('openBrowser', { sae, latents }),
    saveView: (v) => { view = v; if (args) ch.saveState({ args, view }); },
  }, view);
});
ch.rpc.onEvent('error', ({ message }) => { if (status.isConnected) clear(status); showError(root, message); });
ch.rpc.event('ready', {});
