/**
 * Worker thread behind the panels: loads an SAE and its evaluation sample once, runs the analysis pass,
 * and answers the panel models. Keeps the last few analyses (keyed by SAE folder + activation file).
 */
import { parentPort } from 'node:worker_threads';
import { loadSae } from '../formats';
import { MessageHandler } from '../protocol/rpc';
import { readActivationSample } from './activations';
import { analyse, basicFlags } from './analyze';
import type { Analysis } from './analyze';
import { dictionaryModel, featureModel, provisionalDiagnostics, weightsOnlyDictionary } from './build';
import type { DiagnosticsModel, DictionaryModel, FeatureModel } from './model';
import { readTrainingLog } from './trainingLog';
import { buildReport } from './report';
import { writeReport } from './html';
import { join } from 'node:path';
import { InputError } from '../errors';
import { readAnnotations } from './annotations';

export type PanelDataRequests = {
  dictionary: [{ saeDir: string; activations?: string }, DictionaryModel];
  feature: [{ saeDir: string; latent: number; activations?: string }, FeatureModel];
  diagnostics: [{ saeDir: string; activations?: string }, DiagnosticsModel];
  /** Writes the self-contained HTML report; answers with its size in bytes. */
  report: [{ saeDir: string; activations?: string; out: string; features?: number }, { out: string; bytes: number }];
};

const MAX_TOKENS = 4096;
const cache = new Map<string, Analysis>();

function analysisFor(saeDir: string, activations: string): Analysis {
  const key = `${saeDir}\0${activations}`;
  let a = cache.get(key);
  if (!a) {
    const sae = loadSae(saeDir);
    a = analyse(sae, readActivationSample(activations, MAX_TOKENS, sae.cfg.dIn));
    if (cache.size >= 3) cache.delete(cache.keys().next().value!);
    cache.set(key, a);
  }
  return a;
}

if (parentPort) {
  const port = parentPort;
  const rpc = new MessageHandler<Record<string, [unknown, unknown]>, Record<string, unknown>, PanelDataRequests, Record<string, unknown>>((m) => port.postMessage(m));
  port.on('message', (m) => { void rpc.receive(m); });
  rpc.onRequest('dictionary', ({ saeDir, activations }) => {
    const training = readTrainingLog(join(saeDir, 'training_log.jsonl'))?.model;
    const annotations = readAnnotations(saeDir);
    if (!activations) return { ...weightsOnlyDictionary(loadSae(saeDir), annotations), training };
    return dictionaryModel(analysisFor(saeDir, activations), { training, annotations });
  });
  rpc.onRequest('feature', ({ saeDir, latent, activations }) => {
    if (!activations) throw new InputError(saeDir, 'a feature page needs an activation file (none given, no activations.npy beside the SAE)');
    const a = analysisFor(saeDir, activations);
    if (!Number.isInteger(latent) || latent < 0 || latent >= a.sae.cfg.dSae) throw new InputError(saeDir, `latent ${latent} is out of range [0, ${a.sae.cfg.dSae})`);
    return featureModel(a, latent, basicFlags(a), readAnnotations(saeDir).get(latent));
  });
  rpc.onRequest('report', ({ saeDir, activations, out, features }) => {
    const bytes = writeReport(out, buildReport({ saeDir, activations, features }));
    return { out, bytes };
  });
  rpc.onRequest('diagnostics', ({ saeDir, activations }) => {
    if (!activations) throw new InputError(saeDir, 'diagnostics need an activation file (none given, no activations.npy beside the SAE)');
    const a = analysisFor(saeDir, activations);
    return provisionalDiagnostics(a, basicFlags(a));
  });
}
