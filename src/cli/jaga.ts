#!/usr/bin/env node
import { basename } from 'node:path';

// `jaga <command> [options]`: the one operator command (package.json `bin`; the npm scripts run it
// too). Each command is its own module under src/cli/, which parses `process.argv` as when run on
// its own, so `node src/cli/import.ts …` and `jaga import …` behave the same. Node's own
// `util.parseArgs` parses the options; human output goes to stdout, JSON log lines to stderr.
const COMMANDS: Record<string, { module: string; summary: string }> = {
  token: { module: './token.ts', summary: 'mint a bearer token signed with JWT_SECRET (local use)' },
  import: {
    module: './import.ts',
    summary: 'load a CSV/NDJSON/JSON file into a dataset (through the running server if it holds the data folder)',
  },
  migrate: {
    module: './migrate.ts',
    summary: 'apply pending migrations (or report them, if a running server holds the data folder)',
  },
  'audit:verify': { module: './audit-verify.ts', summary: 'walk the audit hash chain (and check a signed checkpoint)' },
  'policy:test': { module: './policy-test.ts', summary: 'run policies/tests/*.yaml against the policy set' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: jaga <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

const [name, ...rest] = process.argv.slice(2);
if (name === '--help' || name === '-h' || name === 'help') {
  process.stdout.write(usage());
  process.exit(0);
}
const command = name === undefined ? undefined : COMMANDS[name];
if (!command) {
  process.stderr.write(
    `${name === undefined ? 'jaga: which command?' : `jaga: unknown command ${JSON.stringify(name)}`}\n${usage()}`,
  );
  process.exit(2);
}
process.argv = [process.argv[0]!, `${basename(process.argv[1] ?? 'jaga')} ${name}`, ...rest];
await import(command.module);
