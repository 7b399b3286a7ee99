/**
 * "Compare SAEs…" shows its Markdown (report.ts compareMarkdown) as a read-only virtual document: one per
 * set of SAEs, so asking again shows the same tab, and closing it never asks to save an untitled file.
 */
import * as vscode from 'vscode';
import { compareMarkdown } from './report';
import { readSaeFacts } from './saeFacts';
import type { SaeFacts } from './saeFacts';

/** The scheme of the read-only comparison documents ("Compare SAEs…"). */
const COMPARE_SCHEME = 'sae-compare';

/** One document per set of SAE folders: asking again shows the same tab instead of a second copy. */
export function compareUri(saeDirs: readonly string[]): vscode.Uri {
  return vscode.Uri.from({ scheme: COMPARE_SCHEME, path: '/SAE comparison.md', query: JSON.stringify([...saeDirs].sort()) });
}

/** Serves the comparison documents from the SAEs' facts, read when the document is opened. */
export function registerCompareDocuments(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, {
    provideTextDocumentContent(uri: vscode.Uri): string {
      let dirs: unknown;
      try { dirs = JSON.parse(uri.query); } catch { dirs = []; }
      const facts = (Array.isArray(dirs) ? dirs : []).map((d) => readSaeFacts(String(d))).filter((f): f is SaeFacts => f?.ok === true);
      return compareMarkdown(facts);
    },
  }));
}
