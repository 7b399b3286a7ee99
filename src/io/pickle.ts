/**
 * A restricted pickle *parser* for PyTorch state_dicts. It never executes anything: it understands the
 * opcodes that plain containers and scalars need, and a fixed allow-list of globals (the tensor rebuild
 * functions, torch storage classes and collections.OrderedDict), which it interprets itself. Any other
 * global — os.system, builtins.eval, subprocess.Popen, a model class — is refused with an InputError
 * naming it, before anything else happens. Storages arrive as persistent ids and stay references here;
 * src/io/torch.ts reads their bytes from the archive.
 */
import { InputError } from '../errors';
import type { DType } from './dtype';

/** A Python tuple (kept apart from lists, which are plain arrays). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export type PyKey = string | number | bigint | boolean | null;

/** A dict or OrderedDict; attributes set by BUILD (torch's `_metadata`) are kept aside. */
export class PyDict {
  readonly map = new Map<PyKey, PyValue>();
  attrs?: PyDict;
}

/** One of the allow-listed globals, as a token (never a function to call). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string { return `${this.module}.${this.name}`; }
}

/** A torch storage named by a persistent id: bytes live in the archive at `data/<key>`. */
export class StorageRef {
  constructor(readonly dtype: DType, readonly key: string, readonly numel: number) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export type PyValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PyValue[] | PyTuple | PyDict | PyGlobal | StorageRef | TensorRef;

/** torch's legacy storage class names (what `_pickle_storage_type` writes) and their element types. */
export const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'F32', DoubleStorage: 'F64', HalfStorage: 'F16', BFloat16Storage: 'BF16',
  LongStorage: 'I64', IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

const CALLABLE_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
]);

function isAllowedGlobal(module: string, name: string): boolean {
  if (CALLABLE_GLOBALS.has(`${module}.${name}`)) return true;
  return module === 'torch' && Object.prototype.hasOwnProperty.call(STORAGE_DTYPES, name);
}

/** Globals people put in malicious pickles; named in the message so the user knows what they were sent. */
const KNOWN_DANGEROUS = /^(os|posix|nt|subprocess|commands|popen2|builtins|__builtin__|sys|shutil|socket|importlib|runpy|pty|webbrowser|code|ctypes|pickle|marshal|types|operator|functools)\./;

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

export interface UnpickleResult {
  value: PyValue;
  storages: Map<string, StorageRef>;
}

/**
 * Parses a pickle (protocols 0–5, the subset a state_dict uses). `source` names the file for errors.
 */
export function unpickle(bytes: Uint8Array, source: string): UnpickleResult {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  const storages = new Map<string, StorageRef>();
  let pos = 0;
  const fail = (problem: string): never => { throw new InputError(source, `pickle: ${problem} (at byte ${pos})`); };
  const need = (n: number): void => { if (n < 0 || pos + n > bytes.byteLength) fail('truncated'); };
  const u8 = (): number => { need(1); return bytes[pos++]!; };
  const u16 = (): number => { need(2); const v = dv.getUint16(pos, true); pos += 2; return v; };
  const u32 = (): number => { need(4); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const u64 = (): number => { need(8); const v = dv.getBigUint64(pos, true); pos += 8; if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large'); return Number(v); };
  const take = (n: number): Uint8Array => { need(n); const s = bytes.subarray(pos, pos + n); pos += n; return s; };
  const utf8 = new TextDecoder('utf-8', { fatal: false });
  const latin1 = new TextDecoder('latin1');
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated (no newline)');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail('stack underflow');
    return v as PyValue;
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK to pop to');
    return stack.splice(m!) as PyValue[];
  };
  const key = (k: PyValue): PyKey => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    return fail(`dict key of unsupported type ${describe(k)}`);
  };
  const setItems = (d: PyValue, items: PyValue[]): void => {
    if (!(d instanceof PyDict)) fail(`SETITEM on ${describe(d)}`);
    if (items.length % 2) fail('odd number of items for SETITEMS');
    for (let i = 0; i < items.length; i += 2) (d as PyDict).map.set(key(items[i]!), items[i + 1]!);
  };
  const appendItems = (l: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(l)) fail(`APPEND on ${describe(l)}`);
    for (const it of items) (l as PyValue[]).push(it);
  };
  const global = (module: string, name: string): PyGlobal => {
    if (!isAllowedGlobal(module, name)) {
      const what = `${module}.${name}`;
      const why = KNOWN_DANGEROUS.test(`${module}.`) ? 'a global that runs code' : 'a global a state_dict does not need';
      throw new InputError(source, `refusing to load: the pickle names ${why}, '${what}' (only torch tensors, storages and OrderedDict are allowed; nothing was executed)`);
    }
    return new PyGlobal(module, name);
  };
  const persistent = (pid: PyValue): StorageRef => {
    if (!(pid instanceof PyTuple) || pid.items.length < 5 || pid.items[0] !== 'storage') fail(`unsupported persistent id ${describe(pid)}`);
    const [, type, k, , n] = (pid as PyTuple).items;
    if (!(type instanceof PyGlobal) || type.module !== 'torch' || !STORAGE_DTYPES[type.name]) fail(`persistent id names storage type ${describe(type!)}`);
    if (typeof k !== 'string' || !/^[\w.-]+$/.test(k)) fail(`storage key ${describe(k!)} is not a plain name`);
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) fail(`storage size ${describe(n!)} is not a count`);
    const dtype = STORAGE_DTYPES[(type as PyGlobal).name]!;
    const existing = storages.get(k as string);
    if (existing) {
      if (existing.dtype !== dtype) fail(`storage '${k}' is used with two dtypes`);
      return existing;
    }
    const ref = new StorageRef(dtype, k as string, n as number);
    storages.set(k as string, ref);
    return ref;
  };
  const intList = (v: PyValue, what: string): number[] => {
    const items = v instanceof PyTuple ? v.items : Array.isArray(v) ? v : undefined;
    if (!items || !items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) return fail(`${what} ${describe(v)} is not a tuple of non-negative integers`);
    return items as number[];
  };
  const call = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal) || !CALLABLE_GLOBALS.has(fn.qualified)) return fail(`REDUCE on ${describe(fn)}, which is not callable here`);
    if (!(args instanceof PyTuple)) return fail('REDUCE arguments are not a tuple');
    const a = args.items;
    switch (fn.qualified) {
      case 'collections.OrderedDict': {
        const d = new PyDict();
        if (a.length === 1 && Array.isArray(a[0])) {
          for (const pair of a[0]) {
            const kv = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : [];
            if (kv.length !== 2) fail('OrderedDict item is not a pair');
            d.map.set(key(kv[0]!), kv[1]!);
          }
        } else if (a.length !== 0) fail('OrderedDict called with unsupported arguments');
        return d;
      }
      case 'torch._utils._rebuild_tensor_v2': {
        if (a.length < 4) return fail('_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)');
        const [storage, offset, size, stride] = a;
        if (!(storage instanceof StorageRef)) return fail(`_rebuild_tensor_v2 storage is ${describe(storage!)}`);
        if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return fail('_rebuild_tensor_v2 offset is not a non-negative integer');
        const shape = intList(size!, 'tensor size'), strides = intList(stride!, 'tensor stride');
        if (shape.length !== strides.length) return fail(`tensor size [${shape}] and stride [${strides}] differ in length`);
        return new TensorRef(storage, offset, shape, strides);
      }
      default: { // _rebuild_parameter(data, requires_grad, hooks[, state]): a Parameter is its tensor here
        if (!(a[0] instanceof TensorRef)) return fail(`${fn.name} of ${describe(a[0] ?? null)}`);
        return a[0];
      }
    }
  };

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: framing is only a hint for buffered readers
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} items on the stack`);
        return { value: stack[0] as PyValue, storages };
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push(new PyTuple([a, b])); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push(new PyTuple([a, b, c])); break; } // TUPLE3
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { const items = popMark(); const d = new PyDict(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: need(4); stack.push(view.getInt32(pos, true)); pos += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: case 0x8b: { // LONG1, LONG4: little-endian two's complement
        const n = op === 0x8a ? u8() : u32();
        if (n > 64) fail(`integer of ${n} bytes`);
        const b = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x49: { // INT (protocol 0; also True/False as I01/I00)
        const s = line();
        if (s === '01') stack.push(true); else if (s === '00') stack.push(false);
        else { const v = Number(s); if (!Number.isSafeInteger(v)) fail(`bad INT '${s.slice(0, 20)}'`); stack.push(v); }
        break;
      }
      case 0x4c: { const s = line().replace(/L$/, ''); if (!/^-?\d+$/.test(s)) fail('bad LONG'); const v = BigInt(s); stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v); break; }
      case 0x46: { const v = Number(line()); if (Number.isNaN(v)) fail('bad FLOAT'); stack.push(v); break; } // FLOAT
      case 0x47: need(8); stack.push(view.getFloat64(pos, false)); pos += 8; break; // BINFLOAT (big-endian)
      case 0x58: stack.push(utf8.decode(take(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(utf8.decode(take(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(utf8.decode(take(u64()))); break; // BINUNICODE8
      case 0x54: { need(4); const n = view.getInt32(pos, true); pos += 4; stack.push(latin1.decode(take(n))); break; } // BINSTRING
      case 0x55: stack.push(latin1.decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x63: { const m = line(); const n = line(); stack.push(global(m, n)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const n = pop(), m = pop();
        if (typeof m !== 'string' || typeof n !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(global(m as string, n as string));
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push(call(fn, args)); break; } // REDUCE
      case 0x51: stack.push(persistent(pop())); break; // BINPERSID
      case 0x62: { // BUILD: only an OrderedDict's attribute dict (torch's `_metadata`) is accepted
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict || state === null)) fail(`BUILD on ${describe(obj)}`);
        if (state instanceof PyDict) (obj as PyDict).attrs = state;
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x70: { const i = Number(line()); if (!Number.isSafeInteger(i)) fail('bad PUT'); memo.set(i, top()); break; } // PUT
      case 0x68: case 0x6a: case 0x67: { // BINGET, LONG_BINGET, GET
        const i = op === 0x68 ? u8() : op === 0x6a ? u32() : Number(line());
        if (!memo.has(i)) fail(`memo ${i} is not defined`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x73: { const v = pop(), k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      default:
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not allowed in a state_dict pickle`);
    }
  }
}

/** A short description of a value for error messages. */
export function describe(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return `bytes(${v.byteLength})`;
  if (Array.isArray(v)) return `list(${v.length})`;
  if (v instanceof PyTuple) return `tuple(${v.items.length})`;
  if (v instanceof PyDict) return `dict(${v.map.size})`;
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof StorageRef) return `storage ${v.key}`;
  return `tensor [${v.shape.join(', ')}]`;
}
