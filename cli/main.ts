/**
 * The `recondo` command line (`deno task recondo …`), built on yargs: subcommands, typed options,
 * generated help, and shell completion (`recondo completion >> ~/.bashrc`).
 *
 * Each command lives in its own module under `cli/` and is registered here.
 * @module
 */
import yargs from "./yargs.ts";
import type { Argv, CommandModule } from "./yargs.ts";
import { caCommand, initCommand } from "./ca_commands.ts";
import { serveCommand } from "./serve_command.ts";
import { keyHashCommand } from "./key_hash_command.ts";
import { userCommand } from "./user_command.ts";
import { policiesCommand } from "./policies_command.ts";
import { inspectCommands } from "./inspect_commands.ts";
import { reportCommand } from "./report_command.ts";
import { verifyCommand } from "./verify_command.ts";
import { deleteCommand, retentionCommand } from "./retention_command.ts";
import { developersCommand } from "./developers_command.ts";
import { fleetCommand } from "./fleet_command.ts";
import { buildUiCommand } from "./build_ui_command.ts";
import { storageCommand } from "./storage_command.ts";

// deno-lint-ignore no-explicit-any
const COMMANDS: CommandModule<any, any>[] = [
  serveCommand,
  initCommand,
  caCommand,
  keyHashCommand,
  ...inspectCommands,
  reportCommand,
  verifyCommand,
  deleteCommand,
  retentionCommand,
  storageCommand,
  policiesCommand,
  userCommand,
  developersCommand,
  fleetCommand,
  buildUiCommand,
];

/** Builds the parser; exported for tests that want to run commands in memory. */
export function buildCli(args: string[]): Argv {
  let cli = yargs(args)
    .scriptName("recondo")
    .usage("$0 <command> [options]")
    .strict()
    .demandCommand(1, "Name a command; `recondo --help` lists them.")
    .completion("completion", "Print a shell completion script (bash/zsh)")
    .help()
    .alias("h", "help")
    .version(false)
    .wrap(Math.min(110, globalThis.process?.stdout?.columns ?? 100))
    .fail((message, error) => {
      if (error) throw error;
      console.error(`recondo: ${message} (see 'recondo --help')`);
      Deno.exit(2);
    });
  for (const command of COMMANDS) cli = cli.command(command);
  return cli;
}

/** Runs the CLI and exits with the command's status. */
export async function runCli(args: string[]): Promise<void> {
  try {
    await buildCli(args).parseAsync();
  } catch (error) {
    console.error(`recondo: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
