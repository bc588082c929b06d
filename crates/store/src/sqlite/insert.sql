-- Inserts a whole batch from one JSON array of rows, so the statement text
-- (and its prepared form) is the same whatever the batch size.
INSERT INTO maos_events (position, id, stream, version, event_type, recorded_at, source, data, metadata)
SELECT r.value ->> '$[0]', r.value ->> '$[1]', r.value ->> '$[2]', r.value ->> '$[3]',
       r.value ->> '$[4]', r.value ->> '$[5]', r.value ->> '$[6]', r.value ->> '$[7]',
       r.value ->> '$[8]'
FROM json_each(?1) AS r
