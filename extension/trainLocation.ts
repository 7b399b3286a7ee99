/**
 * "Where to train", the first question of the training wizard, and starting a run there: this machine's
 * built-in engine, the PyTorch backend with the user's interpreter (CUDA when it has a GPU), or a torchrun
 * job to run elsewhere (a ready script + config in the output folder; the run is then followed through that
 * folder). Every choice gives startTraining's handle and events, so the monitor, Cancel and Resume work the
 * same. Under Remote-SSH this code runs on the remote host (a workspace extension): "PyTorch" is its GPU.
 */
import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import { startTraining } from '../src/train/api';
import type { TrainHandle, TrainOptions } from '../src/train/api';
import type { TrainingEvent } from '../src/protocol/training';
import { startTorchTraining, writeTorchrunScript } from '../src/train/torchBackend';
import { followTrainingLog } from '../src/train/logFollower';
import { captureInterpreter } from './capture';

export type WhereToTrain =
  | { kind: 'builtin' }
  | { kind: 'torch'; python: string }
  | { kind: 'torchrun'; python: string; nproc: number };

const LAST_WHERE_KEY = 'saeWorkbench.lastWhereToTrain';

interface Probe { torch?: string; gpus: string[]; problem?: string }

/** What the interpreter has: torch's version and the CUDA devices (or why it cannot say). */
export function probeInterpreter(python: string): Promise<Probe> {
  const code = 'import json, torch; c = torch.cuda.is_available(); print(json.dumps({"torch": torch.__version__, "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if c else []}))';
  return new Promise((resolve) => {
    execFile(python, ['-c', code], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) {
        const enoent = (err as NodeJS.ErrnoException).code === 'ENOENT';
        resolve({ gpus: [], problem: enoent ? 'not found' : /No module named .?torch/.test(stderr) ? 'no torch installed' : (stderr.trim().split('\n').at(-1) ?? err.message) });
        return;
      }
      try { resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe); } catch { resolve({ gpus: [], problem: 'unexpected output' }); }
    });
  });
}

const describe = (p: Probe | undefined): string => (!p ? 'checking…' : p.problem ? p.problem : `torch ${p.torch}, ${p.gpus.length ? `${p.gpus.length} × ${p.gpus[0]}` : 'CPU only (no CUDA)'}`);

interface WhereItem extends vscode.QuickPickItem { where: WhereToTrain['kind'] }

/** The wizard's first step. Undefined when dismissed. */
export async function pickWhereToTrain(context: vscode.ExtensionContext, title: string): Promise<WhereToTrain | undefined> {
  // one interpreter for everything Python (capture and training): the Python extension's, else saeWorkbench.pythonPath
  const { python } = await captureInterpreter();
  const items: WhereItem[] = [
    { where: 'builtin', label: '$(vm) This machine, built-in engine', description: 'worker threads on this CPU', detail: 'No Python needed.' },
    { where: 'torch', label: '$(flame) Python / PyTorch (GPU if present)', description: `${python}: checking…`, detail: 'The PyTorch backend with this interpreter (the Python extension\'s, else saeWorkbench.pythonPath); CUDA when available, else CPU.' },
    { where: 'torchrun', label: '$(server-environment) A torchrun command to run elsewhere', description: 'cluster / several GPUs', detail: 'Writes train.sh and run.json into the output folder, then follows the run there.' },
  ];
  const qp = vscode.window.createQuickPick<WhereItem>();
  Object.assign(qp, { title: `${title}: where to train`, items, ignoreFocusOut: true, placeholder: 'Where should this run train?' });
  const last = context.workspaceState.get<WhereToTrain['kind']>(LAST_WHERE_KEY);
  qp.activeItems = items.filter((i) => i.where === (last ?? 'builtin'));
  let probe: Probe | undefined;
  void probeInterpreter(python).then((p) => {
    probe = p;
    items[1]!.description = `${python}: ${describe(p)}`;
    qp.items = [...items];
    qp.activeItems = qp.items.filter((i) => i.where === (qp.activeItems[0]?.where ?? last ?? 'builtin'));
  });
  const chosen = await new Promise<WhereItem | undefined>((resolve) => {
    let done = false;
    qp.onDidAccept(() => { if (!done) { done = true; resolve(qp.activeItems[0]); qp.dispose(); } });
    qp.onDidHide(() => { if (!done) { done = true; resolve(undefined); qp.dispose(); } });
    qp.show();
  });
  if (!chosen) return undefined;
  await context.workspaceState.update(LAST_WHERE_KEY, chosen.where);
  if (chosen.where === 'builtin') return { kind: 'builtin' };
  probe ??= await probeInterpreter(python);
  if (chosen.where === 'torch') {
    if (probe.problem) {
      void vscode.window.showErrorMessage(`SAE Workbench: ${python}: ${probe.problem}; select a Python with torch (Python extension, or saeWorkbench.pythonPath).`);
      return undefined;
    }
    return { kind: 'torch', python };
  }
  const nproc = await vscode.window.showInputBox({
    title: `${title}: processes per node`, value: String(Math.max(2, probe.gpus.length)), ignoreFocusOut: true,
    prompt: 'torchrun processes per node (one per GPU); NPROC in the script overrides it',
    validateInput: (v) => (/^[1-9]\d*$/.test(v.trim()) ? undefined : 'a positive whole number'),
  });
  return nproc ? { kind: 'torchrun', python, nproc: Number(nproc) } : undefined;
}

/** Starts a run where it was asked to train; the handle and events are the built-in engine's. */
export function startWhere(opts: TrainOptions, where: WhereToTrain | undefined, onEvent: (e: TrainingEvent) => void): TrainHandle {
  if (!where || where.kind === 'builtin') return startTraining(opts, onEvent);
  if (where.kind === 'torch') return startTorchTraining(opts, { python: where.python }, onEvent);
  const { script } = writeTorchrunScript(opts, { python: where.python, nproc: where.nproc });
  void vscode.window.showInformationMessage(`SAE Workbench: run ${script} on the cluster (NNODES/MASTER_ADDR for several nodes); this window follows ${opts.outDir}.`, 'Open Script', 'Copy Command').then((pick) => {
    if (pick === 'Open Script') void vscode.window.showTextDocument(vscode.Uri.file(script));
    if (pick === 'Copy Command') void vscode.env.clipboard.writeText(`bash '${script}'`);
  });
  return followTrainingLog(opts.outDir, opts.runId ?? 'run', onEvent, { fromStart: false });
}
