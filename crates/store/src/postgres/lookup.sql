-- Each touched stream's version (kind 1) and already recorded ids (kind 2).
-- Both are per-key subqueries with LIMIT 1, so the planner probes the
-- indexes key by key whatever its (possibly stale) table statistics say;
-- a flattened `id = ANY($2)` turned into a seq scan on a young table.
SELECT 1::int2 AS kind, NULL::uuid AS id, s.stream AS stream,
       (SELECT e.version FROM maos_events AS e
        WHERE e.stream = s.stream ORDER BY e.version DESC LIMIT 1) AS version,
       0::int8 AS position
FROM unnest($1::text[]) AS s(stream)
UNION ALL
SELECT 2::int2, i.id, r.stream, r.version, r.position
FROM unnest($2::uuid[]) AS i(id)
CROSS JOIN LATERAL (
    SELECT e.stream, e.version, e.position FROM maos_events AS e WHERE e.id = i.id LIMIT 1
) AS r
