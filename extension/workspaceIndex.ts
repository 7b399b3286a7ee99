/**
 * What the workspace holds: SAE folders (with their facts or the reason they are broken) and activation
 * files. Found with findFiles, kept current by a FileSystemWatcher (no polling), shared by the explorer,
 * CodeLens/hover and the pickers. Reading facts is cheap (cfg.json + safetensors header); problems are
 * logged and shown as error items, never as popups.
 */
import * as vscode from 'vscode';
import { dirname, basename } from 'node:path';
import { readSaeFacts } from './saeFacts';
import type { SaeEntry, SaeFacts } from './saeFacts';
import { CFG_FILE, WEIGHTS_FILE, SPARSITY_FILE } from '../src/formats/saelens';
import { captureEntries, isCapture } from '../src/io/shards';
import { ATOM_MAP_CACHE } from '../src/views/atomMap';
import { statSync } from 'node:fs';
import { classifyActivationFile } from '../src/data/activationFiles';
import type { ActivationFileInfo } from '../src/data/activationFiles';

const EXCLUDE = '**/{node_modules,.git,.venv,venv,__pycache__,.test-artifacts,.feature-pass}/**';
const ACTIVATION_GLOB = '**/*.{npy,npz,safetensors}';
const MAX_FILES = 2000;
const OPENED_KEY = 'saeWorkbench.openedSaes';

/**
 * A tensor file in the workspace, classified by its header (src/data/activationFiles.ts), or one site of a
 * capture folder (`manifest` set; path `<folder>#<site>` when it has several).
 */
export interface ActivationFile extends ActivationFileInfo { name: string; manifest?: string }

export class WorkspaceIndex implements vscode.Disposable {
  private entries = new Map<string, SaeEntry>();
  private activationFiles: ActivationFile[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.OutputChannel) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{json,safetensors,npy,npz}');
    const onFs = (uri: vscode.Uri) => { if (!/[\\/](node_modules|\.git)[\\/]/.test(uri.fsPath)) this.scheduleRefresh(); };
    watcher.onDidCreate(onFs);
    watcher.onDidChange(onFs);
    watcher.onDidDelete(onFs);
    this.disposables.push(watcher, vscode.workspace.onDidChangeWorkspaceFolders(() => this.scheduleRefresh()));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }

  saes(): SaeEntry[] { return [...this.entries.values()].sort((a, b) => a.dir.localeCompare(b.dir)); }
  healthySaes(): SaeFacts[] { return this.saes().filter((e): e is SaeFacts => e.ok); }
  /** Every tensor file found, each with its role (rows, ground truth, codes, token ids, broken…). */
  tensorFiles(): ActivationFile[] { return this.activationFiles; }
  /** The files an SAE can train on or be read with: 2-D float rows. */
  activations(): ActivationFile[] { return this.activationFiles.filter((f) => f.role === 'activations'); }
  get(dir: string): SaeEntry | undefined { return this.entries.get(dir); }
  /** Healthy SAEs whose hook_name is `hook`. */
  byHook(hook: string): SaeFacts[] { return this.healthySaes().filter((s) => s.hookName === hook); }
  hookNames(): Set<string> { return new Set(this.healthySaes().map((s) => s.hookName).filter((h): h is string => !!h)); }

  /** Remembers an SAE opened from outside the workspace so that it stays listed. */
  async addOpened(dir: string): Promise<SaeEntry | undefined> {
    const opened = new Set(this.context.workspaceState.get<string[]>(OPENED_KEY, []));
    opened.add(dir);
    await this.context.workspaceState.update(OPENED_KEY, [...opened]);
    await this.refresh();
    return this.entries.get(dir);
  }

  scheduleRefresh(delayMs = 250): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = undefined; void this.refresh(); }, delayMs);
  }

  private firstScan: Promise<void> | undefined;

  /**
   * Resolves once the workspace has been scanned at least once: a command run right after the window
   * (re)loads lists the workspace's SAEs, not "no SAE found" from an index that has not looked yet.
   */
  scanned(): Promise<void> {
    return this.firstScan ?? this.refresh();
  }

  /** Rescans; concurrent calls coalesce into one more scan after the running one. */
  refresh(): Promise<void> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = this.scan().finally(() => {
      this.scanning = undefined;
      if (this.rescanRequested) { this.rescanRequested = false; void this.refresh(); }
    });
    this.firstScan ??= this.scanning;
    return this.scanning;
  }

  /** Header-only reads, kept while the file's size and mtime stay the same. */
  private classified = new Map<string, { key: string; info: ActivationFileInfo }>();
  private classify(path: string): ActivationFileInfo {
    let key = '';
    try { const st = statSync(path); key = `${st.size}:${st.mtimeMs}`; } catch { /* gone: classify says so */ }
    const hit = this.classified.get(path);
    if (hit && hit.key === key && key) return hit.info;
    const info = classifyActivationFile(path);
    this.classified.set(path, { key, info });
    return info;
  }

  private async scan(): Promise<void> {
    const [cfgs, tensors, manifests] = await Promise.all([
      vscode.workspace.findFiles(`**/${CFG_FILE}`, EXCLUDE, MAX_FILES),
      vscode.workspace.findFiles(ACTIVATION_GLOB, EXCLUDE, MAX_FILES),
      vscode.workspace.findFiles('**/manifest.json', EXCLUDE, MAX_FILES),
    ]);
    // a capture folder is listed once per site, not as its shards (src/io/shards.ts)
    const captures = new Set(manifests.map((u) => dirname(u.fsPath)).filter(isCapture));
    const dirs = new Set(cfgs.map((u) => dirname(u.fsPath)));
    for (const d of this.context.workspaceState.get<string[]>(OPENED_KEY, [])) dirs.add(d);
    const entries = new Map<string, SaeEntry>();
    for (const dir of dirs) {
      const e = readSaeFacts(dir);
      if (!e) continue;
      entries.set(dir, e);
      if (!e.ok && this.entries.get(dir)?.ok !== false) this.log.appendLine(`SAE folder ${dir}: ${e.reason}`);
    }
    const saeFiles = new Set([WEIGHTS_FILE, SPARSITY_FILE]);
    this.activationFiles = tensors
      .map((u) => u.fsPath)
      .filter((p) => !(entries.has(dirname(p)) && (saeFiles.has(basename(p)) || ATOM_MAP_CACHE.test(basename(p)))) && !/checkpoint/i.test(p) && !captures.has(dirname(p)))
      .sort()
      .map((p): ActivationFile => ({ ...this.classify(p), name: basename(p) }))
      .concat([...captures].flatMap(captureEntries).map((c) => ({ ...this.classify(c.path), name: c.name, manifest: c.manifest })))
      .sort((a, b) => a.path.localeCompare(b.path));
    this.entries = entries;
    // Views re-render on every change event, which closes a context menu opened on a row and moves rows
    // under the mouse; the workbench writes files beside SAEs (eval.json, feature-page caches) that the
    // watcher reports, so a scan that found nothing new says nothing.
    const signature = JSON.stringify([[...entries.entries()].sort(([a], [b]) => a.localeCompare(b)), this.activationFiles]);
    if (signature === this.signature) return;
    this.signature = signature;
    this.changed.fire();
  }

  private signature = '';

  /** Tells the views that something they show beside the index changed (an evaluation's outcome). */
  announce(): void { this.changed.fire(); }
}
