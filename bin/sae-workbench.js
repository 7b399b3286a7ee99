#!/usr/bin/env node
// Thin launcher: the CLI is bundled by `npm run build` into dist/cli/cli.js.
const path = require('path');
const fs = require('fs');
const bundle = path.join(__dirname, '..', 'dist', 'cli', 'cli.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('sae-workbench: the CLI is not built yet; run `npm run build` first.\n');
  process.exit(2);
}
require(bundle).main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
