-- Each touched stream's version (kind 1) and already recorded ids (kind 2).
SELECT 1::int2 AS kind, NULL::uuid AS id, s.stream AS stream,
       (SELECT e.version FROM maos_events AS e
        WHERE e.stream = s.stream ORDER BY e.version DESC LIMIT 1) AS version,
       0::int8 AS position
FROM unnest($1::text[]) AS s(stream)
UNION ALL
SELECT 2::int2, e.id, e.stream, e.version, e.position
FROM maos_events AS e
WHERE e.id = ANY($2::uuid[])
