/** Feature page panel protocol (type-only). */
import type { FeatureModel } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const FEATURE_VIEW_TYPE = 'saeWorkbench.feature';

export interface AnnotateRequest { saeDir: string; latent: number; label: string; note: string }
/** The annotation store's answer: when it was saved (ISO time). */
export interface AnnotateResponse { savedAt: string }

/**
 * `load` renders the page; while the whole-data pass runs, `passProgress` moves its progress bar and
 * `update` replaces the parts the pass fills in (activity, histogram, examples, logit effects), keeping
 * the rest of the page (and an annotation being typed) as it is.
 */
export type HostToFeatureEvents = ErrorEvent & {
  load: { model: FeatureModel; args: PanelArgs };
  update: { model: FeatureModel };
  passProgress: { rowsRead: number; rows: number };
};
export type FeatureToHostEvents = ReadyEvent & OpenFeatureEvent;
/** Requests the webview sends: `annotate` is answered by the host's annotation store. */
export type FeatureToHostRequests = { annotate: [AnnotateRequest, AnnotateResponse] };
