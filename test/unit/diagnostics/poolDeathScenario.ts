// Run in a child process by c-poolDeath.test.ts (a hang must not block the test runner's thread): a pool
// worker dies during a task; prints one JSON line with what the caller saw, then a second call on a new pool.
import { diagnosticsPool, setDiagnosticThreads } from '../../../src/diagnostics/pool';

process.env.SAE_WORKBENCH_POOL_TEST_HOOKS = '1';
setDiagnosticThreads(2);
const kind = process.argv[2] ?? 'test:exit';
const first = diagnosticsPool()!;
first.waitReady();
let error = '';
try { first.run([{ kind, args: {} }], () => 1); } catch (e) { error = (e as Error).message; }
// the next call gets a working pool: an unknown kind answers with the worker's own error
const second = diagnosticsPool()!;
let after = '';
try { second.run([{ kind: 'no-such-kind', args: {} }], () => 1); } catch (e) { after = (e as Error).message; }
console.log(JSON.stringify({ error, rebuilt: second !== first, after }));
process.exit(0);
