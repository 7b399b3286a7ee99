/** Residual diagnostics panel protocol (type-only). */
import type { DiagnosticsModel } from './viewModels';
import type { ErrorEvent, OpenFeatureEvent, PanelArgs, ReadyEvent } from './panels';

export const DIAGNOSTICS_VIEW_TYPE = 'saeWorkbench.diagnostics';

export type HostToDiagnosticsEvents = ErrorEvent & { load: { model: DiagnosticsModel; args: PanelArgs } };
export type DiagnosticsToHostEvents = ReadyEvent & OpenFeatureEvent;
export type DiagnosticsRequests = Record<never, [unknown, unknown]>;
