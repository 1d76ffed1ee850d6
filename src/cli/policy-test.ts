import { formatFailures } from '../policy/policy-tests.ts';
import { runPolicyTests } from '../policy/policy-tests.node.ts';

// `npm run policy:test [-- DIR]`: runs policies/tests/*.yaml against policies/*.yaml; exit 1 on any failure or gap.
const dir = process.argv[2] ?? process.env.POLICY_DIR ?? './policies';
try {
  const { rows, failures, gaps, version } = await runPolicyTests(dir);
  const failed = failures.length;
  console.log(`policy set ${version}: ${rows.length} rows, ${rows.length - failed} passed, ${failed} failed`);
  if (failed) console.log('\n' + formatFailures(failures));
  if (gaps.length) console.log('\ncoverage gaps:\n' + gaps.map((g) => `  ${g}`).join('\n'));
  process.exit(failed || gaps.length ? 1 : 0);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
