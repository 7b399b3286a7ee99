import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { DictionaryRequests, DictionaryToHostEvents, HostToDictionaryEvents } from '../../src/protocol/dictionary';
import type { PanelArgs } from '../../src/protocol/panels';
import { connect, showError } from '../shared/host';
import { renderDictionary } from './view';

const root = document.getElementById('root')!;
const ch = connect<DictionaryRequests, DictionaryToHostEvents, HostToDictionaryEvents>();
let args: PanelArgs | undefined = ch.state()?.args;
ch.rpc.onEvent('load', ({ model, args: a }) => {
  args = a;
  ch.saveState({ args });
  renderDictionary(root, model, {
    openBrowser: () => ch.rpc.event('openBrowser', {}),
    openDiagnostics: () => ch.rpc.event('openDiagnostics', {}),
    openAtomMap: () => ch.rpc.event('openAtomMap', {}),
  });
});
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
void args;
ch.rpc.event('ready', {});
