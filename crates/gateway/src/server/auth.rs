//! Bearer tokens with roles. Tokens are random, shown once, and stored as
//! their SHA-256; the token's subject becomes `user_id` in the metadata of
//! the events its commands cause.

use super::error::ApiError;
use super::token_cache::{Cached, TokenCache};
use actix_web::http::StatusCode;
use maos_projections::Cell;
use maos_projections::db::{execute, fetch, int, text};
use maos_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::{Duration, Instant};

/// What a caller may do. Each role can do what the ones below it can.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads: workflows, board, agents, audit, state, live events.
    Viewer,
    /// A remote agent: reads, and reports results of its attempts.
    Agent,
    /// Runs the work: submits, cancels, answers escalations, forks, manages agents.
    Operator,
    /// Everything, including tokens and projection rebuilds.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Agent, Role::Operator, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed (health, readiness, metrics, the API document).
    Public,
    /// A token with at least this role.
    Role(Role),
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub token_id: String,
    pub subject: String,
    pub role: Role,
}

/// A token just made; `token` is shown this once and never stored.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewToken {
    pub id: String,
    pub token: String,
    pub subject: String,
    pub role: Role,
}

/// A token as listed: never its value or hash.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenInfo {
    pub id: String,
    pub subject: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The token store, with the tokens seen so far cached by hash (see
/// [`CACHE_TTL`]).
#[derive(Debug)]
pub struct Tokens {
    store: Store,
    cache: TokenCache,
}

/// How long a verified token is trusted without asking the database: a
/// token revoked through another server sharing the database stops working
/// here within this time and the one lookup that follows it (through this
/// server, at once). Requests that come during that lookup trust the token
/// too, rather than each asking the database (see `token_cache`).
pub const CACHE_TTL: Duration = Duration::from_secs(30);

/// A row of `maos_tokens` as listed (id, subject, role, created, revoked).
fn token_info(row: &[Cell]) -> TokenInfo {
    let time = |c: &Cell| int(c).and_then(chrono::DateTime::from_timestamp_micros);
    TokenInfo {
        id: text(&row[0]).unwrap_or_default(),
        subject: text(&row[1]).unwrap_or_default(),
        role: text(&row[2])
            .and_then(|r| Role::parse(&r))
            .unwrap_or(Role::Viewer),
        created_at: time(&row[3]).unwrap_or_default(),
        revoked_at: time(&row[4]),
    }
}

/// The admin token file in a data dir.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

const INSERT: &str =
    "INSERT INTO maos_tokens (id, hash, subject, role, created_at) VALUES ($1, $2, $3, $4, $5)";
const LOOKUP: &str =
    "SELECT id, subject, role FROM maos_tokens WHERE hash = $1 AND revoked_at IS NULL";
const KNOWN: &str = "SELECT id FROM maos_tokens WHERE hash = $1";
// SQLite numbers `$n` parameters in order of appearance: keep them in order.
// An active admin token is revoked only while another one stays active, so
// the API can never be left without an admin. On SQLite the store's single
// writer runs one revocation at a time; on PostgreSQL the active admin rows
// are locked first, in id order, so two revocations of the last two admin
// tokens run one after the other and the second sees the first's revocation.
const REVOKE_SQLITE: &str = "UPDATE maos_tokens SET revoked_at = $1 \
     WHERE id = $2 AND revoked_at IS NULL AND (role <> 'admin' OR EXISTS \
     (SELECT 1 FROM maos_tokens WHERE role = 'admin' AND revoked_at IS NULL AND id <> $2))";
const REVOKE_POSTGRES: &str = "WITH admins AS (SELECT id FROM maos_tokens \
     WHERE role = 'admin' AND revoked_at IS NULL ORDER BY id FOR UPDATE) \
     UPDATE maos_tokens SET revoked_at = $1 \
     WHERE id = $2 AND revoked_at IS NULL AND (role <> 'admin' OR EXISTS \
     (SELECT 1 FROM admins WHERE id <> $2))";
const ONE: &str = "SELECT id, subject, role, created_at, revoked_at FROM maos_tokens WHERE id = $1";
const LIST: &str = "SELECT id, subject, role, created_at, revoked_at FROM maos_tokens ORDER BY id";

impl Tokens {
    pub fn new(store: Store) -> Tokens {
        Tokens {
            store,
            cache: TokenCache::new(CACHE_TTL),
        }
    }

    /// Makes a token for `subject` with `role`.
    pub async fn create(&self, subject: &str, role: Role) -> Result<NewToken, ApiError> {
        let subject = subject.trim();
        if subject.is_empty() || subject.len() > 200 {
            return Err(ApiError::unprocessable(
                "INVALID_TOKEN_REQUEST",
                "subject must be 1 to 200 characters",
            ));
        }
        let token = format!("maos_{}", random_hex(32));
        let id = uuid::Uuid::now_v7().to_string();
        self.insert(&id, &token, subject, role).await?;
        Ok(NewToken {
            id,
            token,
            subject: subject.to_owned(),
            role,
        })
    }

    async fn insert(
        &self,
        id: &str,
        token: &str,
        subject: &str,
        role: Role,
    ) -> Result<(), ApiError> {
        execute(
            &self.store,
            INSERT.to_owned(),
            vec![
                Cell::text(id),
                Cell::text(hash(token)),
                Cell::text(subject),
                Cell::text(role.as_str()),
                Cell::int(chrono::Utc::now().timestamp_micros()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Who holds `token`, if anyone.
    pub async fn verify(&self, token: &str) -> Result<Option<Principal>, ApiError> {
        let hash = hash(token);
        if let Cached::Trusted(principal) = self.cache.get(&hash, Instant::now()) {
            return Ok(Some(principal));
        }
        let rows = match fetch(
            &self.store,
            LOOKUP.to_owned(),
            vec![Cell::text(hash.clone())],
        )
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                self.cache.abandon(&hash);
                return Err(e.into());
            }
        };
        let principal = rows.first().map(|row| Principal {
            token_id: text(&row[0]).unwrap_or_default(),
            subject: text(&row[1]).unwrap_or_default(),
            role: text(&row[2])
                .and_then(|r| Role::parse(&r))
                .unwrap_or(Role::Viewer),
        });
        self.cache.put(hash, principal.clone(), Instant::now());
        Ok(principal)
    }

    /// Every token, revoked ones too, in id (creation) order.
    pub async fn list(&self) -> Result<Vec<TokenInfo>, ApiError> {
        let rows = fetch(&self.store, LIST.to_owned(), Vec::new()).await?;
        Ok(rows.iter().map(|r| token_info(r)).collect())
    }

    /// Revokes the token `id`: it stops working at once on this server.
    /// The last active admin token is refused (`LAST_ADMIN_TOKEN`): with
    /// it gone, nobody could make or revoke tokens again.
    pub async fn revoke(&self, id: &str) -> Result<TokenInfo, ApiError> {
        let now = chrono::Utc::now().timestamp_micros();
        let sql = match self.store {
            Store::Sqlite(_) => REVOKE_SQLITE,
            Store::Postgres(_) => REVOKE_POSTGRES,
        };
        let changed = execute(
            &self.store,
            sql.to_owned(),
            vec![Cell::int(now), Cell::text(id)],
        )
        .await?;
        self.cache.forget_token(id);
        let rows = fetch(&self.store, ONE.to_owned(), vec![Cell::text(id)]).await?;
        let Some(info) = rows.first().map(|r| token_info(r)) else {
            return Err(ApiError::not_found(
                "TOKEN_NOT_FOUND",
                format!("token {id} does not exist"),
            ));
        };
        if changed == 0 && info.revoked_at.is_some() {
            return Err(ApiError::conflict(
                "TOKEN_ALREADY_REVOKED",
                format!("token {id} was already revoked"),
            )
            .with_details(serde_json::json!({"revoked_at": info.revoked_at})));
        }
        if changed == 0 {
            return Err(ApiError::conflict(
                "LAST_ADMIN_TOKEN",
                format!(
                    "token {id} is the last active admin token; create another admin token before revoking it"
                ),
            )
            .with_details(serde_json::json!({"role": info.role})));
        }
        Ok(info)
    }

    /// Makes sure `data_dir/admin.token` holds a working admin token:
    /// creates the file (mode 0600) on first start, and registers a token
    /// found there that this database doesn't know yet.
    pub async fn ensure_admin_token(&self, data_dir: &Path) -> Result<(), ApiError> {
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        match std::fs::read_to_string(&path) {
            Ok(token) => {
                let token = token.trim();
                // A token revoked here stays revoked: only one this
                // database has never seen is registered.
                let known =
                    fetch(&self.store, KNOWN.to_owned(), vec![Cell::text(hash(token))]).await?;
                if known.is_empty() {
                    let id = uuid::Uuid::now_v7().to_string();
                    self.insert(&id, token, "admin", Role::Admin).await?;
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let made = self.create("admin", Role::Admin).await?;
                write_private(&path, &made.token).map_err(|e| {
                    ApiError::internal(format!("cannot write {}: {e}", path.display()))
                })?;
                tracing::info!(path = %path.display(), "created the admin token");
                Ok(())
            }
            Err(e) => Err(ApiError::internal(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Checks the `Authorization: Bearer …` header against `access`.
pub async fn authorize(
    tokens: &Tokens,
    header: Option<&str>,
    access: Access,
) -> Result<Option<Principal>, ApiError> {
    let Access::Role(needed) = access else {
        return Ok(None);
    };
    let unauthorized =
        |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", m.to_owned());
    let Some(header) = header else {
        return Err(unauthorized(
            "missing bearer token (Authorization: Bearer <token>)",
        ));
    };
    let Some(token) = header.strip_prefix("Bearer ").map(str::trim) else {
        return Err(unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    };
    let Some(principal) = tokens.verify(token).await? else {
        return Err(unauthorized("unknown or revoked token"));
    };
    if principal.role < needed {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "this needs the {} role; the token has {}",
                needed.as_str(),
                principal.role.as_str()
            ),
        )
        .with_details(serde_json::json!({"needed": needed, "have": principal.role})));
    }
    Ok(Some(principal))
}

/// SHA-256, hex.
pub fn hash(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_revoked_admin_token_stays_revoked_across_restarts() {
        let store = maos_testkit::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let tokens = Tokens::new(store.clone());
        tokens.ensure_admin_token(dir.path()).await.unwrap();
        let token = std::fs::read_to_string(dir.path().join(ADMIN_TOKEN_FILE)).unwrap();
        let admin = tokens
            .verify(token.trim())
            .await
            .unwrap()
            .expect("admin token works");
        // Another admin first: the last active one cannot be revoked.
        tokens.create("second admin", Role::Admin).await.unwrap();
        tokens.revoke(&admin.token_id).await.unwrap();
        assert!(tokens.verify(token.trim()).await.unwrap().is_none());

        // A restart: a new token store on the same database and data dir.
        let restarted = Tokens::new(store.clone());
        restarted.ensure_admin_token(dir.path()).await.unwrap();
        assert!(
            restarted.verify(token.trim()).await.unwrap().is_none(),
            "the revoked admin token came back"
        );
        assert_eq!(
            restarted.list().await.unwrap().len(),
            2,
            "nothing registered again"
        );
        maos_testkit::cleanup(store).await;
    }

    /// The last active admin token is refused and keeps working; once
    /// another admin token exists, it can go. Other roles' tokens go
    /// whatever the admins.
    async fn the_last_admin_token_cannot_be_revoked(store: Store) {
        let tokens = Tokens::new(store.clone());
        let first = tokens.create("first", Role::Admin).await.unwrap();
        let viewer = tokens.create("viewer", Role::Viewer).await.unwrap();

        let refused = tokens.revoke(&first.id).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert_eq!(refused.code, "LAST_ADMIN_TOKEN", "{}", refused.message);
        assert!(
            tokens.verify(&first.token).await.unwrap().is_some(),
            "the refused revocation still revoked the token"
        );
        assert!(
            tokens
                .list()
                .await
                .unwrap()
                .iter()
                .all(|t| t.revoked_at.is_none())
        );

        tokens.revoke(&viewer.id).await.unwrap();
        let second = tokens.create("second", Role::Admin).await.unwrap();
        tokens.revoke(&first.id).await.unwrap();
        assert!(tokens.verify(&first.token).await.unwrap().is_none());
        let refused = tokens.revoke(&second.id).await.unwrap_err();
        assert_eq!(refused.code, "LAST_ADMIN_TOKEN");
        // An already revoked admin token is reported as such.
        let again = tokens.revoke(&first.id).await.unwrap_err();
        assert_eq!(again.code, "TOKEN_ALREADY_REVOKED");
        maos_testkit::cleanup(store).await;
    }

    #[tokio::test]
    async fn the_last_admin_token_cannot_be_revoked_on_sqlite() {
        the_last_admin_token_cannot_be_revoked(maos_testkit::sqlite().await).await;
    }

    #[tokio::test]
    async fn the_last_admin_token_cannot_be_revoked_on_postgres() {
        the_last_admin_token_cannot_be_revoked(maos_testkit::postgres().await).await;
    }

    /// Two servers revoking the last two admin tokens at once: one of them
    /// is refused, so an admin token remains.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_revocations_leave_an_admin_token_on_postgres() {
        let store = maos_testkit::postgres().await;
        let setup = Tokens::new(store.clone());
        for _ in 0..20 {
            let a = setup.create("a", Role::Admin).await.unwrap();
            let b = setup.create("b", Role::Admin).await.unwrap();
            // Each "server" its own token store (and cache), on one database.
            let (one, two) = (Tokens::new(store.clone()), Tokens::new(store.clone()));
            let (ra, rb) = tokio::join!(one.revoke(&a.id), two.revoke(&b.id));
            let refused: Vec<_> = [ra, rb].into_iter().filter_map(Result::err).collect();
            assert_eq!(refused.len(), 1, "both or neither revoked: {refused:?}");
            assert_eq!(refused[0].code, "LAST_ADMIN_TOKEN");
            let active = setup
                .list()
                .await
                .unwrap()
                .into_iter()
                .filter(|t| t.role == Role::Admin && t.revoked_at.is_none())
                .count();
            assert_eq!(active, 1);
            // Back to no admin tokens for the next round: the survivor is
            // revoked behind the guard's back.
            execute(
                &store,
                "UPDATE maos_tokens SET revoked_at = 0 WHERE revoked_at IS NULL".to_owned(),
                Vec::new(),
            )
            .await
            .unwrap();
        }
        maos_testkit::cleanup(store).await;
    }
}
