// Preloaded (node --import) into a CLI child by the kill-during-save tests: counts the steps of a folder
// save (each rename into or out of a `.saving` or `.tmp` temporary or the `.sae-save.json` journal, and the
// journal's removal) and kills the process with SIGKILL just before step KILL_AT_SAVE_STEP.
import fs from 'node:fs'; // the CommonJS module object our compiled code calls through
const killAt = Number(process.env.KILL_AT_SAVE_STEP);
let step = 0;
const isSaveStep = (...paths) => paths.some((p) => typeof p === 'string' && (p.includes('.saving') || p.includes('.sae-save.json') || p.endsWith('.tmp')));
function counted(name) {
  const original = fs[name];
  fs[name] = function (...args) {
    if (isSaveStep(...args) && ++step === killAt) process.kill(process.pid, 'SIGKILL');
    return original.apply(this, args);
  };
}
counted('renameSync');
counted('unlinkSync');
