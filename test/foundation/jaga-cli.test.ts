import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runJaga, runScript } from '../helpers/process.ts';

const COMMANDS = ['token', 'import', 'migrate', 'audit:verify', 'policy:test'];

describe('the jaga command', () => {
  it('lists its commands on help, and refuses an unknown or missing one with exit 2', async () => {
    const help = runJaga('help', {});
    expect(await help.exited).toBe(0);
    for (const name of COMMANDS) expect(help.output()).toMatch(new RegExp(`^  ${name} `, 'm'));
    const unknown = runJaga('exprot', {});
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('jaga: unknown command "exprot"');
    const none = runScript('src/cli/jaga.ts', {});
    expect(await none.exited).toBe(2);
    expect(none.output()).toContain('jaga: which command?');
  });

  it('is what the package bin and the npm scripts run', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
    };
    expect(pkg.bin.jaga).toBe('src/cli/jaga.ts');
    for (const name of COMMANDS)
      expect(pkg.scripts[name]).toMatch(new RegExp(`^node (--\\S+ )*src/cli/jaga\\.ts ${name}$`));
  });
});
