import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { DiagnosticsRequests, DiagnosticsToHostEvents, HostToDiagnosticsEvents } from '../../src/protocol/diagnostics';
import { connect, showError } from '../shared/host';
import { renderDiagnostics } from './view';

const root = document.getElementById('root')!;
const ch = connect<DiagnosticsRequests, DiagnosticsToHostEvents, HostToDiagnosticsEvents>();
ch.rpc.onEvent('load', ({ model, args }) => {
  ch.saveState({ args });
  renderDiagnostics(root, model, { openFeature: (latent) => ch.rpc.event('openFeature', { latent }) });
});
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
ch.rpc.event('ready', {});
