import { describe, expect, it } from 'vitest';
import { loadPolicies, PolicyLoadError, type PolicyProblem } from '../../src/policy/loader.ts';

const rule = (extra: string) =>
  `role: r\nrules:\n  - id: r.one\n    action: read\n    subject: Dataset\n    reason: because\n${extra}`;

async function problemsOf(text: string, name = 'r.yaml'): Promise<PolicyProblem[]> {
  try {
    await loadPolicies([{ name, text }]);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyLoadError);
    return (error as PolicyLoadError).problems;
  }
  throw new Error('the policy set was accepted');
}

describe('policy loader refuses invalid files with the file, the rule id and what is wrong', () => {
  it('unknown key', async () => {
    expect(await problemsOf(rule('    colour: red\n'))).toEqual([
      { file: 'r.yaml', ruleId: 'r.one', path: 'rules.0.colour', message: 'unknown key colour' },
    ]);
  });
  it('unknown key at the top of a file', async () => {
    expect(await problemsOf('role: r\nextra: 1\nrules: []\n')).toEqual([
      { file: 'r.yaml', ruleId: null, path: 'extra', message: 'unknown key extra' },
    ]);
  });
  it('unknown action', async () => {
    const [p] = await problemsOf(rule('').replace('action: read', 'action: fly'));
    expect(p).toMatchObject({ ruleId: 'r.one', path: 'rules.0.action' });
    expect(p!.message).toMatch(/^unknown action "fly" \(expected one of read, create/);
  });
  it('unknown subject', async () => {
    const [p] = await problemsOf(rule('').replace('subject: Dataset', 'subject: Planet'));
    expect(p).toMatchObject({ ruleId: 'r.one', path: 'rules.0.subject' });
    expect(p!.message).toMatch(/^unknown subject "Planet"/);
  });
  it('unknown operator', async () => {
    expect(await problemsOf(rule('    conditions: { ownerUnit: { $regex: "^32" } }\n'))).toEqual([
      {
        file: 'r.yaml',
        ruleId: 'r.one',
        path: 'rules.0.conditions.ownerUnit.$regex',
        message: 'unknown operator $regex (expected one of $eq, $ne, $in, $nin, $within)',
      },
    ]);
  });
  it('unknown attribute in a condition', async () => {
    const [p] = await problemsOf(rule('    conditions: { colour: red }\n'));
    expect(p).toMatchObject({ ruleId: 'r.one', path: 'rules.0.conditions.colour' });
    expect(p!.message).toMatch(/^unknown attribute "colour" for Dataset \(known: id, ownerUnit, classification/);
  });
  it('unknown field', async () => {
    expect(await problemsOf(rule('    fields: [title, nope]\n'))).toEqual([
      { file: 'r.yaml', ruleId: 'r.one', path: 'rules.0.fields', message: 'unknown field "title" for Dataset' },
      { file: 'r.yaml', ruleId: 'r.one', path: 'rules.0.fields', message: 'unknown field "nope" for Dataset' },
    ]);
  });
  it('malformed conditions', async () => {
    const cases: [string, string, string][] = [
      ['{ ownerUnit: { $in: "32" } }', 'rules.0.conditions.ownerUnit.$in', 'malformed condition: $in expects a list'],
      [
        '{ ownerUnit: { $within: [32] } }',
        'rules.0.conditions.ownerUnit.$within',
        'malformed condition: $within expects a unit code or ${principal.unit}',
      ],
      [
        '{ $or: { ownerUnit: "32" } }',
        'rules.0.conditions.$or',
        'malformed condition: $or expects a non-empty list of conditions',
      ],
      [
        '{ ownerUnit: { a: 1 } }',
        'rules.0.conditions.ownerUnit.a',
        'unknown operator a (expected one of $eq, $ne, $in, $nin, $within)',
      ],
      [
        '{ ownerUnit: "${process.env.SECRET}" }',
        'rules.0.conditions.ownerUnit',
        'unknown placeholder ${process.env.SECRET} (expected one of ${principal.unit}, ${principal.sub}, ${principal.purposes}, as the whole value)',
      ],
      [
        '{ steward: "${principal.purposes}" }',
        'rules.0.conditions.steward',
        '${principal.purposes} is a list; use it with $in or $nin',
      ],
      [
        '{ ownerUnit: [1, 2] }',
        'rules.0.conditions.ownerUnit',
        'malformed condition: expected a string, number, boolean or null, got [1,2]',
      ],
      ['"ownerUnit is 32"', 'rules.0.conditions', 'conditions must be a mapping'],
    ];
    for (const [cond, path, message] of cases) {
      expect(await problemsOf(rule(`    conditions: ${cond}\n`)), cond).toEqual([
        { file: 'r.yaml', ruleId: 'r.one', path, message },
      ]);
    }
  });
  it('a rule without a reason, a bad mask, duplicate ids and roles, broken YAML', async () => {
    expect(await problemsOf('role: r\nrules:\n  - { id: r.x, action: read, subject: Dataset }\n')).toEqual([
      { file: 'r.yaml', ruleId: 'r.x', path: 'rules.0.reason', message: 'every rule needs a reason' },
    ]);
    expect((await problemsOf(rule('    mask: blur\n')))[0]!.message).toBe(
      'unknown mask (expected one of partial, pseudonym, generalise, redact)',
    );
    expect((await problemsOf(rule('    mask: partial\n')))[0]!.message).toBe(
      'a mask applies only to allow rules on Field or Record',
    );
    const dup = rule('') + '  - { id: r.one, action: read, subject: Field, reason: again }\n';
    expect((await problemsOf(dup))[0]).toMatchObject({
      ruleId: 'r.one',
      message: 'duplicate rule id (also in r.yaml)',
    });
    expect((await problemsOf('role: r\nrules: [\n'))[0]!.message).toMatch(/^YAML: /);
    try {
      await loadPolicies([
        { name: 'r.yaml', text: 'role: r\nrules: []\n' },
        { name: 'r.yml', text: 'role: r\nrules: []\n' },
      ]);
      throw new Error('accepted');
    } catch (error) {
      expect((error as PolicyLoadError).problems).toEqual([
        { file: 'r.yml', ruleId: null, path: 'role', message: 'role r is already defined in r.yaml' },
      ]);
    }
  });
  it('unknown role: a file whose role is not its name', async () => {
    expect(await problemsOf('role: staf\nrules: []\n', 'staff.yaml')).toEqual([
      {
        file: 'staff.yaml',
        ruleId: null,
        path: 'role',
        message: 'role "staf" does not match the file name (expected "staff")',
      },
    ]);
  });
  it('the message lists every problem with file and rule', async () => {
    try {
      await loadPolicies([{ name: 'r.yaml', text: rule('    colour: red\n') }]);
    } catch (error) {
      expect((error as Error).message).toBe(
        'Invalid policy set:\n  r.yaml rule r.one at rules.0.colour: unknown key colour',
      );
    }
  });
  it('the version is a hash of the content: same text, same version; any change, new version', async () => {
    const a = await loadPolicies([{ name: 'r.yaml', text: rule('') }]);
    const b = await loadPolicies([{ name: 'r.yaml', text: rule('') }]);
    const c = await loadPolicies([{ name: 'r.yaml', text: rule('') + '# a comment\n' }]);
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
    expect(b.version).toBe(a.version);
    expect(c.version).not.toBe(a.version);
  });
});
