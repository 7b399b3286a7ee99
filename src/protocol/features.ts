/** Feature browser panel protocol (type-only). The model is the dictionary's per-latent columns. */
import type { DictionaryModel } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const FEATURES_VIEW_TYPE = 'saeWorkbench.features';

export type HostToFeaturesEvents = ErrorEvent & { load: { model: DictionaryModel; args: PanelArgs } };
/** `compare`: the user's multi-selection (the host may open the pages side by side). */
export type FeaturesToHostEvents = ReadyEvent & OpenFeatureEvent & { compare: { latents: Int32Array } };
export type FeaturesRequests = Record<never, [unknown, unknown]>;
