/**
 * The `sae-workbench` command line: the same engine as the extension, no VS Code. Each subcommand lives
 * in its own module under ./commands and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { isInputError, oneLine } from '../errors';
import { registerInspect } from './commands/inspect';
import { registerConvert } from './commands/convert';
import { registerSynth } from './commands/synth';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerDiagnose } from './commands/diagnose';
import { registerTree } from './commands/tree';
import { registerReport } from './commands/report';
import { registerDemo } from './commands/demo';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('sae-workbench')
    .description('Train, load and diagnose sparse autoencoders, transcoders and crosscoders on local activation files.')
    .version('0.1.0')
    .option('--json', 'print one JSON document on stdout instead of text')
    .option('--verbose', 'print stack traces for errors')
    // The error and a pointer to the help, not the whole help text after it.
    .showHelpAfterError("(add --help for this command's usage)")
    .exitOverride();
  for (const register of [registerInspect, registerConvert, registerSynth, registerTrain, registerEval, registerDiagnose, registerTree, registerReport, registerDemo]) {
    register(program);
  }
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    // option parsers throw InputErrors for bad values
    process.stderr.write(`sae-workbench: ${oneLine(e)}\n`);
    return isInputError(e) ? 2 : 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

if (require.main === module || process.env.SAE_WORKBENCH_CLI_MAIN === '1') {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
