/** Atom map panel protocol (type-only): every latent's decoder direction placed in 2-D, coloured by what the tool knows of it. */
import type { AtomMapModel, CachedLayout } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const ATOM_MAP_VIEW_TYPE = 'saeWorkbench.atomMap';

/** `progress`: the layout's stage while it runs (first paint waits for it unless cached). */
export type HostToAtomMapEvents = ErrorEvent & {
  load: { model: AtomMapModel; args: PanelArgs };
  progress: { stage: string; fraction: number };
};
/** `openBrowser`: the lasso's latents of one SAE, opened in the latent browser. */
export type AtomMapToHostEvents = ReadyEvent & OpenFeatureEvent & { openBrowser: { sae: number; latents: Int32Array } };
export type AtomMapRequests = Record<never, [unknown, unknown]>;

// The atom-map worker's channel (extension/panels/atomMap.ts ↔ src/workers/atomMap.worker.ts): the layout, and its stage while it runs.
export type AtomMapWorkerRequests = { layout: [{ saeDirs: string[]; seed?: number }, CachedLayout] };
export type AtomMapWorkerEvents = { progress: { stage: string; fraction: number } };
