import type { Command } from 'commander';
import { action, InputError } from '../common';

/** Not built yet: its issue fills it in. Registered so that `--help` shows the whole command set. */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(action(() => {
      throw new InputError('synth', 'this subcommand is not implemented yet');
    }));
}
