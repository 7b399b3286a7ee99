/**
 * Worker threads for the diagnostics' row-parallel work (encoding rows to CSR codes, exact codes a*, row
 * blocks of dense products). The diagnostics are synchronous, so the pool is too: the calling thread posts
 * each worker its share, does its own share meanwhile, then blocks on an Atomics flag per worker and takes
 * the answer with receiveMessageOnPort (no event-loop turn needed). Large operands that stay the same
 * across calls (the SAE's weights, the unit atoms) are sent to a worker once and then named by id; an id is
 * tied to the array object and a hash of its contents, so a buffer that is reused with new contents is
 * sent again.
 *
 * A worker that dies mid-task (process.exit, an exception outside its handler, out of memory) cannot tell
 * the blocked caller through an 'exit' event: this thread would only see it on its next event-loop turn.
 * So the pool workers are started by a small supervisor thread whose event loop stays free: on a worker's
 * 'exit' it raises the worker's dead flag and wakes the caller, which throws "a diagnostics worker exited
 * during <kind>"; the pool is then closed and the next call builds a new one.
 *
 * Threads: SAE_WORKBENCH_DIAG_THREADS (1 = everything on the calling thread), else
 * min(2, available cores) — this machine class has 2 cores. Where workers cannot start (no
 * SharedArrayBuffer, no worker_threads), everything runs on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { workerFile } from '../runtime/workerPath';

/** How long a worker may take to load (tsx compiles the sources on first start) before we give up on it. */
const START_TIMEOUT_MS = 60_000;
/** Constants a worker keeps (oldest dropped first). */
const KEEP_CONSTANTS = 6;

/** What a task names: `const` ids for operands sent once, plain values otherwise. */
export interface PoolTask {
  kind: string;
  args: Record<string, unknown>;
  /** Argument name → constant (sent to a worker once per content). */
  constants?: Record<string, object>;
}

export interface PoolMessage {
  kind: string;
  args: Record<string, unknown>;
  refs: Record<string, number>;
  define: { id: number; value: unknown }[];
  drop: number[];
}

export interface PoolWorkerData {
  port: MessagePort;
  /** FLAG_* indices. */
  flag: Int32Array;
}

/** flag[FLAG_ANSWER] = 1 when an answer is posted; [FLAG_READY] = 1 once loaded; [FLAG_DEAD] = 1 once exited, [FLAG_EXIT_CODE] its exit code. */
export const FLAG_ANSWER = 0, FLAG_READY = 1, FLAG_DEAD = 2, FLAG_EXIT_CODE = 3;

interface Slot {
  /** Tasks go out and answers come back on this port (the worker holds the other end). */
  port: MessagePort;
  flag: Int32Array;
  sent: number[];
  /** The task being computed, for the error when the worker dies. */
  kind: string;
}

/**
 * The supervisor (plain JS, run with eval so that it needs no bundle of its own): starts one pool worker per
 * slot and, on a worker's 'exit' (which also follows an out-of-memory 'error'), marks it dead and wakes the
 * caller, which may be blocked on the answer flag.
 */
const SUPERVISOR = `
const { Worker, workerData } = require('node:worker_threads');
const { file, fromSource, slots, resourceLimits } = workerData;
for (const s of slots) {
  const w = fromSource
    ? new Worker("require('tsx/cjs'); require(" + JSON.stringify(file) + ");", { eval: true, workerData: s, transferList: [s.port], resourceLimits })
    : new Worker(file, { workerData: s, transferList: [s.port], resourceLimits });
  w.on('error', () => undefined);
  w.on('exit', (code) => {
    Atomics.store(s.flag, ${FLAG_EXIT_CODE}, code | 0);
    Atomics.store(s.flag, ${FLAG_DEAD}, 1);
    Atomics.notify(s.flag, ${FLAG_ANSWER});
    Atomics.notify(s.flag, ${FLAG_READY});
  });
}
`;

interface ConstantRecord { id: number; hash: number }

let nextId = 1;
const constantIds = new WeakMap<object, ConstantRecord>();

/** FNV-style hash over the bytes of a typed array, or over every typed array field of an object (one level). */
export function contentHash(value: object): number {
  let h = 0x811c9dc5;
  const mix = (v: ArrayBufferView): void => {
    const words = new Int32Array(v.buffer, v.byteOffset, v.byteLength >> 2);
    for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
    const rest = v.byteLength & 3;
    if (rest) { const bytes = new Uint8Array(v.buffer, v.byteOffset + v.byteLength - rest, rest); for (const b of bytes) h = Math.imul(h ^ b, 0x01000193); }
    h = Math.imul(h ^ v.byteLength, 0x01000193);
  };
  if (ArrayBuffer.isView(value)) mix(value);
  else for (const v of Object.values(value)) if (ArrayBuffer.isView(v)) mix(v);
  return h >>> 0;
}

/** Constants whose owner promised their contents stay as they are (sealConstant): hashed once, not per call. */
const sealed = new WeakSet<object>();

/**
 * The caller promises that `value`'s typed arrays will not change from now on (e.g. an SAE loaded for a
 * long read-only pass): the pool then hashes it once here instead of on every call — a 16k-latent SAE's
 * weights are 100 MB, about a second of hashing on a loaded machine, per call.
 */
export function sealConstant(value: object): void {
  if (sealed.has(value)) return;
  constantIds.set(value, { id: nextId++, hash: contentHash(value) });
  sealed.add(value);
}

function constantId(value: object): number {
  const known = constantIds.get(value);
  if (known && sealed.has(value)) return known.id;
  const hash = contentHash(value);
  const rec = known;
  if (rec && rec.hash === hash) return rec.id;
  const id = nextId++;
  constantIds.set(value, { id, hash });
  return id;
}

export class DiagnosticsPool {
  private readonly slots: Slot[] = [];
  private readonly supervisor: Worker;
  /** True while a job runs: a nested parallel call (from inside own()) then stays on the calling thread. */
  busy = false;
  /** Set when a worker has died: the pool is closed and diagnosticsPool() builds a new one. */
  broken = false;

  constructor(workers: number) {
    const data: PoolWorkerData[] = [];
    for (let w = 0; w < workers; w++) {
      const flag = new Int32Array(new SharedArrayBuffer(16));
      const { port1, port2 } = new MessageChannel();
      data.push({ port: port2, flag });
      port1.unref();
      this.slots.push({ port: port1, flag, sent: [], kind: '' });
    }
    const { file, fromSource } = workerFile('diagnosticsPool');
    // the test hooks (c-poolDeath.test.ts) cap a worker's heap so that running out of memory is quick
    const resourceLimits = process.env.SAE_WORKBENCH_POOL_TEST_HOOKS === '1' ? { maxOldGenerationSizeMb: 64 } : undefined;
    this.supervisor = new Worker(SUPERVISOR, { eval: true, workerData: { file, fromSource, slots: data, resourceLimits }, transferList: data.map((d) => d.port) });
    this.supervisor.unref();
    this.supervisor.on('error', () => undefined);
  }

  private deadError(slot: Slot, during: string): Error {
    this.broken = true;
    return new Error(`a diagnostics worker exited during ${during} (exit code ${Atomics.load(slot.flag, FLAG_EXIT_CODE)}); the pool is rebuilt on the next call`);
  }

  /** Blocks until every worker has loaded (benches use it to time the work, not the start-up). */
  waitReady(): void {
    const t0 = Date.now();
    for (const s of this.slots) {
      while (Atomics.load(s.flag, FLAG_READY) === 0) {
        if (Atomics.load(s.flag, FLAG_DEAD) === 1) throw this.deadError(s, 'start-up');
        Atomics.wait(s.flag, FLAG_READY, 0, 1000);
        if (Date.now() - t0 > START_TIMEOUT_MS) throw new Error(`a diagnostics worker did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
    }
  }

  /** Threads that share the work, the calling thread included. */
  get threads(): number { return this.slots.length + 1; }

  /**
   * Runs tasks[w] on worker w while `own()` runs here; returns own()'s result and the workers' answers in
   * task order. tasks.length must not exceed the number of workers.
   */
  run<R>(tasks: PoolTask[], own: () => R): { own: R; results: unknown[] } {
    if (tasks.length > this.slots.length) throw new Error(`diagnostics pool: ${tasks.length} tasks for ${this.slots.length} workers`);
    if (this.broken) throw new Error('diagnostics pool: a worker has exited; use diagnosticsPool() for a new pool');
    this.busy = true;
    try {
      // each constant's content is hashed once per call, not once per worker it goes to
      const ids = new Map<object, number>();
      tasks.forEach((t, w) => this.post(this.slots[w]!, t, ids));
    } catch (e) {
      this.busy = false;
      throw e;
    }
    let mine: R | undefined, failure: unknown;
    try { mine = own(); } catch (e) { failure = e; }
    // always collect every answer, so that no worker is left with an unread reply
    const results: unknown[] = [];
    tasks.forEach((_, w) => {
      try { results.push(this.collect(this.slots[w]!)); } catch (e) { failure ??= e; }
    });
    this.busy = false;
    if (this.broken) void this.close();
    if (failure !== undefined) throw failure;
    return { own: mine as R, results };
  }

  private post(slot: Slot, t: PoolTask, ids: Map<object, number>): void {
    const refs: Record<string, number> = {};
    const define: PoolMessage['define'] = [];
    const drop: number[] = [];
    for (const [name, value] of Object.entries(t.constants ?? {})) {
      let id = ids.get(value);
      if (id === undefined) { id = constantId(value); ids.set(value, id); }
      refs[name] = id;
      if (slot.sent.includes(id)) continue;
      define.push({ id, value });
      slot.sent.push(id);
      while (slot.sent.length > KEEP_CONSTANTS) drop.push(slot.sent.shift()!);
    }
    const msg: PoolMessage = { kind: t.kind, args: t.args, refs, define, drop };
    if (Atomics.load(slot.flag, FLAG_DEAD) === 1) throw this.deadError(slot, `'${t.kind}' (before it was sent)`);
    slot.kind = t.kind;
    Atomics.store(slot.flag, FLAG_ANSWER, 0);
    slot.port.postMessage(msg);
  }

  private collect(slot: Slot): unknown {
    const t0 = Date.now();
    while (Atomics.load(slot.flag, FLAG_ANSWER) === 0) {
      // This thread is blocked, so a worker's 'exit' event cannot reach it: the supervisor raises FLAG_DEAD.
      if (Atomics.load(slot.flag, FLAG_DEAD) === 1) {
        // an answer posted just before the exit still counts
        if (Atomics.load(slot.flag, FLAG_ANSWER) === 1) break;
        throw this.deadError(slot, `'${slot.kind}'`);
      }
      Atomics.wait(slot.flag, FLAG_ANSWER, 0, 1000);
      // a worker that never loads ends the call instead of hanging it
      if (Atomics.load(slot.flag, FLAG_READY) === 0 && Date.now() - t0 > START_TIMEOUT_MS) {
        throw new Error(`a diagnostics worker did not start within ${START_TIMEOUT_MS / 1000} s`);
      }
    }
    const got = receiveMessageOnPort(slot.port);
    if (!got) throw new Error('diagnostics worker: answer flagged but not received');
    const reply = got.message as { ok: true; value: unknown } | { ok: false; message: string; name: string };
    if (!reply.ok) {
      const e = new Error(reply.message);
      e.name = reply.name;
      throw e;
    }
    return reply.value;
  }

  /** Ends the supervisor, and with it the pool workers it started (a thread's workers end with it). */
  async close(): Promise<void> {
    for (const s of this.slots) s.port.close();
    this.slots.length = 0;
    await this.supervisor.terminate();
  }
}

let pool: DiagnosticsPool | undefined;
let threadsOverride: number | undefined;

/** Threads the diagnostics use (calling thread included). */
export function diagnosticThreads(): number {
  const env = Number(process.env.SAE_WORKBENCH_DIAG_THREADS);
  const want = threadsOverride ?? (Number.isInteger(env) && env >= 1 ? env : Math.min(2, availableParallelism()));
  return Math.max(1, want);
}

/** Sets the number of threads (1 = serial); tests compare the parallel and serial paths with it. */
export function setDiagnosticThreads(threads: number | undefined): void {
  threadsOverride = threads;
}

/** The shared pool for the current thread setting, or undefined when the work stays on this thread. */
export function diagnosticsPool(): DiagnosticsPool | undefined {
  const threads = diagnosticThreads();
  if (threads <= 1) return undefined;
  if (pool && !pool.broken && pool.threads === threads) return pool;
  if (typeof SharedArrayBuffer === 'undefined') return undefined;
  const old = pool;
  pool = undefined;
  if (old) void old.close();
  try {
    pool = new DiagnosticsPool(threads - 1);
  } catch {
    return undefined;
  }
  return pool;
}

/** Splits [0, n) into `parts` contiguous ranges of near-equal size (empty ranges dropped). */
export function splitRange(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const lo = Math.floor((p * n) / parts), hi = Math.floor(((p + 1) * n) / parts);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}

/**
 * Runs a row-parallel job: rows [0, n) are split across the pool's threads; `local(lo, hi)` computes a
 * range on this thread and `task(lo, hi)` describes the same computation for a worker. Returns each range
 * with its result, in row order. With no pool (or fewer than minRowsPerThread rows each), one local call
 * does all.
 */
export function parallelRows<R>(n: number, local: (lo: number, hi: number) => R, task: (lo: number, hi: number) => PoolTask, minRowsPerThread = 1): { lo: number; hi: number; value: R }[] {
  const p = diagnosticsPool();
  const threads = p ? Math.min(p.threads, Math.floor(n / Math.max(1, minRowsPerThread))) : 1;
  if (!p || p.busy || threads <= 1) return [{ lo: 0, hi: n, value: local(0, n) }];
  const ranges = splitRange(n, threads);
  const [first, ...rest] = ranges;
  const { own, results } = p.run(rest.map(([lo, hi]) => task(lo, hi)), () => local(first![0], first![1]));
  return [{ lo: first![0], hi: first![1], value: own }, ...rest.map(([lo, hi], t) => ({ lo, hi, value: results[t] as R }))];
}
