/**
 * A diagnostics pool worker (worker_threads entry; built to dist/workers/diagnosticsPool.worker.js): runs
 * one share of a row-parallel job (./pool.ts) with the same functions the calling thread runs on its own
 * share, answers on its port, then raises its flag so that the blocked caller wakes. It is started by the
 * pool's supervisor thread (pool.ts), which raises the dead flag if it exits.
 */
import { workerData } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { fastMatmulBT } from '../compute/fastMatmul';
import type { Sae } from '../sae/types';
import { FLAG_ANSWER, FLAG_READY, setDiagnosticThreads } from '../diagnostics/pool';
import type { PoolMessage, PoolWorkerData } from '../diagnostics/pool';
import { encodeRange } from '../diagnostics/encoderCodes';
import type { EncodeKeep, EncodeOptions } from '../diagnostics/encoderCodes';
import { exactCodesRange } from '../diagnostics/lassoCodes';
import type { ExactCodeOptions } from '../diagnostics/lassoCodes';

// a worker does its share on its own thread: no pool inside the pool
setDiagnosticThreads(1);
const { port, flag } = workerData as PoolWorkerData;
const constants = new Map<number, unknown>();

function buffersOf(value: unknown): TransferListItem[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) { if (v.buffer instanceof ArrayBuffer) out.add(v.buffer); return; }
    if (v && typeof v === 'object') for (const w of Object.values(v)) visit(w);
  };
  visit(value);
  return [...out];
}

function run(msg: PoolMessage): unknown {
  const c = <T>(name: string): T => constants.get(msg.refs[name]!) as T;
  const a = msg.args;
  switch (msg.kind) {
    case 'encode':
      return encodeRange(c<Sae>('sae'), a.x as Float32Array, a.y as Float32Array | undefined, a.n as number, a.keep as EncodeKeep, a.chunkRows as number | undefined, a.values as EncodeOptions['values']);
    case 'exact':
      return exactCodesRange(a.targets as Float32Array, c<Float32Array>('unitAtoms'), a.n as number, a.m as number, a.d as number, a.lambdaE as number, a.warm as never, a.options as ExactCodeOptions);
    case 'matmulBT':
      return fastMatmulBT(a.a as Float32Array, c<Float32Array>('b').subarray((a.bFrom as number) * (a.k as number)), a.m as number, a.k as number, a.n as number);
    default:
      if (process.env.SAE_WORKBENCH_POOL_TEST_HOOKS === '1') testHook(msg.kind);
      throw new Error(`unknown diagnostics pool task '${msg.kind}'`);
  }
}

/** Test-only ways to die mid-task (test/unit/diagnostics/c-poolDeath.test.ts); reached only with SAE_WORKBENCH_POOL_TEST_HOOKS=1. */
function testHook(kind: string): void {
  if (kind === 'test:exit') process.exit(7);
  if (kind === 'test:uncaught') {
    // thrown outside the message handler, and the task never answers
    setImmediate(() => { throw new Error('test: uncaught in a pool worker'); });
    throw Object.assign(new Error('no reply'), { skipReply: true });
  }
  if (kind === 'test:oom') {
    // the supervisor caps a worker's heap at 64 MB when the hooks are on
    const hold: number[][] = [];
    for (;;) hold.push(new Array<number>(1 << 16).fill(1.5));
  }
}

if (port) {
  port.on('message', (msg: PoolMessage) => {
    let reply: unknown, transfer: TransferListItem[] = [];
    try {
      for (const id of msg.drop) constants.delete(id);
      for (const { id, value } of msg.define) constants.set(id, value);
      const value = run(msg);
      reply = { ok: true, value };
      transfer = buffersOf(value);
    } catch (e) {
      if ((e as { skipReply?: boolean }).skipReply) return;
      reply = { ok: false, message: (e as Error).message ?? String(e), name: (e as Error).name ?? 'Error' };
    }
    port.postMessage(reply, transfer);
    Atomics.store(flag, FLAG_ANSWER, 1);
    Atomics.notify(flag, FLAG_ANSWER);
  });
  Atomics.store(flag, FLAG_READY, 1);
  Atomics.notify(flag, FLAG_READY);
}
