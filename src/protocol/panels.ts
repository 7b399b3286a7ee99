/**
 * What every panel's protocol shares (type-only): the ready handshake, the host's error report, and the
 * arguments a panel was opened with, which the webview keeps in its state so the host can restore it
 * after a reload (WebviewPanelSerializer). Messages travel as rpc.ts envelopes.
 */
export interface PanelArgs {
  /** SAE folders (one for most panels; several for the split tree). */
  saeDirs: string[];
  activations?: string;
  latent?: number;
  /** Latents to preselect (the atom map's lasso opening the latent browser). */
  latents?: number[];
  runId?: string;
}

/** Sent by every webview once its script runs; the host answers with the panel's data. */
export type ReadyEvent = { ready: Record<string, never> };
/** Host → webview: something failed (one line, no stack). */
export type ErrorEvent = { error: { message: string } };
/** Webview → host: open a feature page (sae indexes PanelArgs.saeDirs; default 0). */
export type OpenFeatureEvent = { openFeature: { latent: number; sae?: number } };

/** State every webview saves with setState: its args plus its own view state. */
export interface PanelState<V = unknown> { args: PanelArgs; view?: V }
