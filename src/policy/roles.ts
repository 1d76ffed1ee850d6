/** The roles Jaga ships policies for (api-contract.md). The loaded policy set is the authority; this is its default. */
export const DEFAULT_ROLES = ['public', 'staff', 'steward', 'ppid', 'auditor', 'service', 'admin'] as const;
export type DefaultRole = (typeof DEFAULT_ROLES)[number];
