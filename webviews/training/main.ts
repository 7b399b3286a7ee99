import '@vscode/codicons/dist/codicon.css';
import '../../media/panels.css';
import type { HostToTrainingEvents, TrainingRequests, TrainingToHostEvents } from '../../src/protocol/trainingPanel';
import { connect, showError } from '../shared/host';
import { TrainingView } from './view';

const root = document.getElementById('root')!;
const ch = connect<TrainingRequests, TrainingToHostEvents, HostToTrainingEvents>();
let view: TrainingView | undefined;
let runId = ch.state()?.args.runId ?? '';
const ensure = (): TrainingView => (view ??= new TrainingView(root, runId, {
  cancel: () => ch.rpc.event('cancel', { runId }),
  resume: () => ch.rpc.event('resume', { runId }),
}));
ch.rpc.onEvent('history', ({ model, args, state, message, resumable }) => {
  runId = args.runId ?? runId;
  ch.saveState({ args });
  ensure().setHistory(model, state, message, resumable);
});
ch.rpc.onEvent('progress', ({ progress }) => ensure().progress(progress));
ch.rpc.onEvent('status', ({ state, message, resumable }) => ensure().setStatus(state, message, resumable));
ch.rpc.onEvent('error', ({ message }) => showError(root, message));
ch.rpc.event('ready', {});
