/**
 * Feature-page passes running in the panels' worker: one per SAE + activation file, started by the first
 * panel that needs it (or read from the cache beside the SAE), stepped one chunk per event-loop turn so
 * that the worker keeps answering requests — a page asked for mid-pass is built from the statistics so
 * far and says how far the pass has got — and written to the cache when it ends.
 */
import { oneLine } from '../errors';
import type { Sae } from '../sae/types';
import { featurePassCachePath, featurePassSteps, openPassSource, readFeatureStats, writeFeatureStats, DEFAULT_PASS, DEFAULT_PASS_ROWS } from './featurePass';
import type { PassRows, PassSource } from './featurePass';
import { pageData, passCoverage } from './featurePage';
import type { FeaturePassData } from './featurePage';
import type { FeatureStats } from './featureStats';
import type { PassProgress } from '../protocol/viewModels';

/** The cache is a convenience: a folder we may not write to (read-only, untrusted) leaves the pages working. */
function saveQuietly(path: string, stats: FeatureStats, activations: string, source: PassSource): void {
  try { writeFeatureStats(path, stats, { source, activations }); } catch { /* the pass runs again next time */ }
}

/** The rows the worker's passes read (the setting saeWorkbench.featurePages.maxRows, sent by the host). */
let passRows: PassRows = DEFAULT_PASS_ROWS;

/** Sets the row cap of the passes started from now on (a pass already running keeps its own). */
export function setPassRows(rows: PassRows): void {
  passRows = rows;
}

/** One run per SAE + file + rows read. */
function runKey(saeDir: string, activations: string): string {
  return `${saeDir}\0${activations}\0${passRows.maxRows}\0${passRows.seed}`;
}

interface Run { data: FeaturePassData; stop: boolean }

const runs = new Map<string, Run>();
const MAX_RUNS = 3;
/** Least time between two progress reports of a running pass. */
const REPORT_MS = 1000;

/**
 * The page data of this SAE + file: complete when cached, else growing while the pass runs.
 * `report` hears about progress (throttled) and about the end of the pass. `chunkRows` is for tests.
 */
export function passDataFor(sae: Sae, saeDir: string, activations: string, report: (p: PassProgress) => void, chunkRows?: number): FeaturePassData {
  const key = runKey(saeDir, activations);
  const known = runs.get(key);
  if (known) return known.data;
  const source = openPassSource(activations, passRows, sae.cfg.dSae);
  const cachePath = featurePassCachePath(saeDir, sae, source);
  const cached = readFeatureStats(cachePath);
  const steps = cached ? undefined : featurePassSteps(sae, source, DEFAULT_PASS, chunkRows);
  // the generator makes its statistics object on the first step; the pages hold that same object
  const first = steps ? steps.next() : undefined;
  const stats = cached ?? first!.value;
  const run: Run = { data: pageData(sae, stats, source), stop: false };
  if (runs.size >= MAX_RUNS) {
    const [oldKey, old] = runs.entries().next().value!;
    old.stop = true;
    old.data.source.close();
    runs.delete(oldKey);
  }
  runs.set(key, run);
  if (!steps || first!.done) {
    if (steps) saveQuietly(cachePath, stats, activations, source);
    return run.data;
  }
  let last = Date.now();
  const tell = (error?: string): void => report({ ...passCoverage(run.data), saeDir, activations, error });
  const step = (): void => {
    if (run.stop) return;
    try {
      const next = steps.next();
      if (next.done) {
        saveQuietly(cachePath, next.value, activations, source);
        tell();
        return;
      }
    } catch (e) {
      runs.delete(key);
      tell(oneLine(e));
      return;
    }
    if (Date.now() - last >= REPORT_MS) { last = Date.now(); tell(); }
    setImmediate(step);
  };
  setImmediate(step);
  return run.data;
}

/**
 * The page data of a pass that has read all its rows (every row, or the sample the cap asks for) — run in
 * this worker or cached beside the SAE — or undefined (no pass is started for it).
 */
export function finishedPassData(sae: Sae, saeDir: string, activations: string): FeaturePassData | undefined {
  const known = runs.get(runKey(saeDir, activations));
  if (known) return passCoverage(known.data).complete ? known.data : undefined;
  try {
    const source = openPassSource(activations, passRows, sae.cfg.dSae);
    const stats = readFeatureStats(featurePassCachePath(saeDir, sae, source));
    return stats ? pageData(sae, stats, source) : undefined;
  } catch {
    return undefined;
  }
}
