/**
 * Messages between the extension host (or CLI) and the diagnostics worker. Type-only module.
 */
import type { DiagnosticReport } from '../diagnostics';
import type { DiagnoseFilesRequest } from '../diagnostics/files';

export type { DiagnoseFilesRequest } from '../diagnostics/files';

/** host → worker requests: type → [payload, response]. */
export interface DiagnosticsWorkerRequests {
  diagnose: [DiagnoseFilesRequest, DiagnosticReport];
  [type: string]: [unknown, unknown];
}

/** worker → host events. */
export interface DiagnosticsWorkerEvents {
  /** A stage started: 'read', 'encode', 'firing' or a section name. */
  progress: { stage: string };
  [type: string]: unknown;
}
