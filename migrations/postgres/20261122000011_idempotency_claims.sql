-- A command sent with an Idempotency-Key is claimed before it runs: a row
-- with status 0 (pending) holding the id the command gives what it makes
-- (`reserved`, e.g. a submitted workflow's id), completed with the answer
-- once it ran. A retry that finds a pending claim whose run was cut off
-- (the process stopped) runs the command again with the same id, and a
-- workflow that the first run already made is answered from its stream,
-- not made twice.
ALTER TABLE maos_idempotency ADD COLUMN reserved TEXT;
