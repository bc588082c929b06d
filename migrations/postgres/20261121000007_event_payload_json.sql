-- Event payloads and metadata are kept as the JSON text their writer
-- rendered (type json: checked, stored as is) instead of jsonb. Nothing
-- queries inside them in SQL (the read models do the querying), and jsonb
-- costs a parse on every append and a conversion back to text on every
-- read: reading the log in order was bound by that conversion.
ALTER TABLE maos_events
    ALTER COLUMN data TYPE json USING data::json,
    ALTER COLUMN metadata TYPE json USING metadata::json;
