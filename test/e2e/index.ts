/**
 * Entry of the integration suite inside a real VS Code extension host (loaded through the
 * `extensionTestsPath` payload, see scripts/e2e.mjs): runs every out/e2e/suite/*.test.js with mocha.
 * Results go to the console, which the runner receives through codeAutomationLog.
 */
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 120_000, reporter: 'spec' });
  const dir = join(__dirname, 'suite');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.js')).sort()) mocha.addFile(join(dir, f));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
