-- Exempt information shared with another agency for its legal duty (issue 20, docs/agreements.md):
-- the PPID lists, on an exemption record (the DIK), the legal bases under which its information may
-- go to an agency under a data-sharing agreement. An empty list (the default, and every record made
-- before this migration) shares nothing. Changing the list is a change of the DIK record: a row of
-- the label history (event `sharing`, the list in `sharing`) and an audit entry.
-- Same file on PostgreSQL 15 and PGlite.
alter table exemptions add column shareable_under jsonb not null default '[]'::jsonb
  check (jsonb_typeof(shareable_under) = 'array');

alter table label_history drop constraint label_history_event_check;
alter table label_history add constraint label_history_event_check
  check (event in ('label', 'proposal', 'approval', 'rejection', 'sharing'));
alter table label_history add column sharing jsonb;
