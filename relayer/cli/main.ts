/**
 * `klx-bridge`: one command, a subcommand per role and per operator task.
 * Exit codes: 0 success, 1 a failure the command reports (audit mismatch, refused
 * block, rejected transaction, a schema another process holds), 2 bad usage or
 * configuration; a role process also stops with 3 when a hub block does not verify and
 * with 4 when the session holding its schema lock is lost.
 */
import { Command, CommanderError } from 'commander';
import { KlxError } from '../ledger/errors.ts';
import { registerBridgeRoleCommands } from './bridge-roles.ts';
import { registerDeployCommands } from './deploy-commands.ts';
import { registerOverrideCommands } from './override-commands.ts';
import { registerOperatorCommands } from './operator-commands.ts';
import { registerRoleCommands } from './role-commands.ts';
import { registerUserCommands } from './user-commands.ts';
import { registerWithdrawCommands } from './withdraw-commands.ts';
import { registerCoordinatorCommands } from './coordinator-commands.ts';

const program = new Command('klx-bridge')
  .description('KLX Bridge: hub ledger, relayer roles and operator tools')
  .showHelpAfterError()
  .exitOverride();

registerRoleCommands(program);
registerBridgeRoleCommands(program);
registerOperatorCommands(program);
registerDeployCommands(program);
registerOverrideCommands(program);
registerUserCommands(program);
registerWithdrawCommands(program);
registerCoordinatorCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  if (e instanceof KlxError) {
    console.error(`klx-bridge: ${e.code}: ${e.message}`);
    process.exit(e.code === 'CONFIG_INVALID' ? 2 : 1);
  }
  console.error(`klx-bridge: ${(e as Error).message}`);
  process.exit(1);
}
