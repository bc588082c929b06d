-- The gateway's tables: API tokens (stored hashed) and the answers of
-- commands sent with an Idempotency-Key.
CREATE TABLE maos_tokens (
    id          TEXT PRIMARY KEY,
    hash        TEXT NOT NULL UNIQUE,   -- SHA-256 of the token, hex
    subject     TEXT NOT NULL,          -- becomes user_id in event metadata
    role        TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'agent', 'viewer')),
    created_at  BIGINT NOT NULL,        -- microseconds since the epoch
    revoked_at  BIGINT
);

CREATE TABLE maos_idempotency (
    subject     TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,          -- SHA-256 of method, path and body
    status      BIGINT NOT NULL,
    body        TEXT NOT NULL,          -- the answer's data, JSON
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (subject, key)
);
