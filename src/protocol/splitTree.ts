/** Feature-split tree panel protocol (type-only). */
import type { SplitTreeModel } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const SPLIT_TREE_VIEW_TYPE = 'saeWorkbench.splitTree';

export type HostToSplitTreeEvents = ErrorEvent & { load: { model: SplitTreeModel; args: PanelArgs } };
/** openFeature.sae indexes model.saes (= args.saeDirs). */
export type SplitTreeToHostEvents = ReadyEvent & OpenFeatureEvent;
export type SplitTreeRequests = Record<never, [unknown, unknown]>;
