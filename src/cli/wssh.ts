#!/usr/bin/env node
/**
 * The `wssh` command: `server`, `connect`, `client` and `profile`. Argument parsing is
 * node's util.parseArgs (commands.ts); each command's work lives in its own
 * module so that the demo and the tests start the same code the command line
 * does.
 */
import { UsageError } from './options';
import { errorText } from './configRemedies';
import { stderrNote } from './logLine';
import { COMMANDS, PROFILE_USAGE, USAGE, CommandName, isCommandName, parseCommand, positionalCount } from './commands';
import { keepHeapHeadroom } from '../core/inbound/heapHeadroom';
import { copyStderrTo } from './logFileOption';
import { version } from './version';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  if (name === 'profile') {
    const [sub, ...subRest] = rest;
    if (sub === undefined || sub === '--help' || sub === '-h') {
      process.stdout.write(PROFILE_USAGE);
      return sub === undefined ? 2 : 0;
    }
    const full = `profile ${sub}`;
    if (!isCommandName(full)) {
      throw new UsageError(`unknown command "${full}" (expected profile create, show or link; see wssh profile --help)`);
    }
    return runCommand(full, subRest);
  }
  if (!isCommandName(name) || name.includes(' ')) {
    throw new UsageError(`unknown command "${name}" (expected server, connect, client, doctor or profile; see wssh --help)`);
  }
  return runCommand(name, rest);
}

async function runCommand(name: CommandName, rest: string[]): Promise<number> {
  const command = COMMANDS[name];
  const parsed = parseCommand(name, rest);
  const values = parsed.values;
  if (values.help) {
    process.stdout.write(command.usage);
    return 0;
  }
  if (values.version) {
    process.stdout.write(version() + '\n');
    return 0;
  }
  const [fewest, most] = positionalCount(name, values);
  const got = parsed.positionals.length;
  if (got < fewest || got > most) {
    const count = (n: number) => ['no arguments', 'one argument', 'two arguments'][n] ?? `${n} arguments`;
    const expected = fewest === most ? count(fewest) : `${count(fewest).replace(/ arguments?$/, '')} or ${count(most)}`;
    throw new UsageError(`wssh ${name} takes ${expected}, got ${got} (see wssh ${name} --help)`);
  }
  // Before the command logs anything: its stderr is copied to the file from the first line.
  if (typeof values['log-file'] === 'string') copyStderrTo(values['log-file']);
  return command.run(values, parsed.positionals);
}

if (require.main === module) {
  // The server and the proxy relay every byte through this heap (heapHeadroom.ts).
  keepHeapHeadroom();
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0) process.exitCode = code;
    },
    (err: Error) => {
      stderrNote(errorText(err));
      process.exitCode = err instanceof UsageError ? 2 : 1;
    },
  );
}
