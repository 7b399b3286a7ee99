import type { Command } from 'commander';
import { action, InputError } from '../common';

/** Not built yet: its issue fills it in. Registered so that `--help` shows the whole command set. */
export function registerDiagnose(program: Command): void {
  program
    .command('diagnose')
    .description('(not implemented yet)')
    .allowUnknownOption()
    .argument('[args...]')
    .action(action(() => {
      throw new InputError('diagnose', 'this subcommand is not implemented yet');
    }));
}
