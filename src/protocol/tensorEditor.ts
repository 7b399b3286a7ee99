/**
 * Messages of the read-only tensor-file editor (.safetensors, .npy, .npz), host <-> webview, and of the
 * worker that computes its statistics. Type-only module (webviews import it too).
 * The webview says `ready`; the host answers with `listing` (header facts, at once), then `stats` (from a
 * worker) or `failed`. View state (sort, filter) stays in the webview via setState.
 */
import type { InspectReport, TensorListing } from '../formats/inspect';

export interface SaeSummary {
  dir: string;
  architecture: string;
  dSae: number;
  dIn: number;
  k?: number;
  hookName?: string;
}

/** host -> webview events */
export interface TensorEditorHostEvents {
  [key: string]: unknown;
  'tensorEditor/listing': { fileName: string; listing: TensorListing | null; sae: SaeSummary | null; trusted: boolean };
  'tensorEditor/stats': { report: InspectReport };
  'tensorEditor/failed': { message: string };
}

/** webview -> host events */
export interface TensorEditorWebviewEvents {
  [key: string]: unknown;
  'tensorEditor/ready': Record<string, never>;
  'tensorEditor/openAsSae': Record<string, never>;
}

/** host -> worker requests */
export interface InspectWorkerRequests {
  [key: string]: [unknown, unknown];
  inspect: [{ path: string }, InspectReport];
}
