-- Audit writer's single-statement append (see src/audit/audit.repo.ts, INSERT_GUARDED): when the
-- chain head is not the one a batch was hashed against, the statement must fail as a whole, so
-- the rows it already inserted go too. Volatile, so it runs only when called, never at plan time.
create function jaga_audit_head_moved() returns bigint
language plpgsql volatile as $$
begin
  raise exception 'audit chain head moved' using errcode = 'JA001';
end;
$$;
