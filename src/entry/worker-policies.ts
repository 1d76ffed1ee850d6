// The policy files, bundled into the Worker as text (wrangler.toml [[rules]] type = "Text"):
// a Worker has no file system to read POLICY_DIR from. Add a line here when a role file is added.
import admin from '../../policies/admin.yaml';
import auditor from '../../policies/auditor.yaml';
import ppid from '../../policies/ppid.yaml';
import publicRole from '../../policies/public.yaml';
import service from '../../policies/service.yaml';
import staff from '../../policies/staff.yaml';
import steward from '../../policies/steward.yaml';
import type { PolicySource } from '../policy/loader.ts';

export const bundledPolicies: PolicySource[] = [
  { name: 'admin.yaml', text: admin },
  { name: 'auditor.yaml', text: auditor },
  { name: 'ppid.yaml', text: ppid },
  { name: 'public.yaml', text: publicRole },
  { name: 'service.yaml', text: service },
  { name: 'staff.yaml', text: staff },
  { name: 'steward.yaml', text: steward },
];
