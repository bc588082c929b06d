-- What a batch needs to know, in one statement: the head position (kind 0),
-- each touched stream's version (kind 1), already recorded ids (kind 2).
SELECT 0 AS kind, NULL AS id, NULL AS stream, COALESCE(MAX(position), 0) AS version, 0 AS position
FROM maos_events
UNION ALL
SELECT 1, NULL, s.value,
       (SELECT e.version FROM maos_events AS e
        WHERE e.stream = s.value ORDER BY e.version DESC LIMIT 1),
       0
FROM json_each(?1) AS s
UNION ALL
SELECT 2, e.id, e.stream, e.version, e.position
FROM maos_events AS e
WHERE e.id IN (SELECT value FROM json_each(?2))
