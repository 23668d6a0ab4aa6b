//! [`PgStore`]: orders in PostgreSQL (feature `postgres`), for several instances of one shop
//! on one database.
//!
//! Every operation is one SQL statement in its own (implicit) transaction: a change is one
//! `UPDATE … WHERE` the row is still as expected, applied when it updated a row, so that of
//! two instances applying changes from one reading at once, PostgreSQL's row lock lets one
//! through and re-checks the other against the row as the first left it (and refuses it). A
//! caller that goes away mid-statement (a client hanging up on a notify handler) leaves no
//! transaction open on the pooled connection. Fulfilment claims take rows with `FOR UPDATE
//! SKIP LOCKED` and count their leases on the database's clock.
//!
//! Migrations run when the store connects, in one transaction under an advisory lock, so
//! instances starting together apply each once. TLS goes through rustls, with the server's
//! certificate and name always verified against the system's root certificates or the file
//! a URL names with `sslrootcert=`; there is no OpenSSL. `sslmode=require` refuses to go on
//! without TLS; `prefer`, the default as in libpq, goes on in the clear when the server (or
//! whoever sits on the path) declines TLS, so across any network but loopback say `require`;
//! `disable` never tries.

mod events;
mod merchants;
mod pay;
mod prune;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use self::sql::{database, millis, unix};
use super::batch::{Answer, Batcher, Payment};
use super::{
    AoidCondition, Change, Claim, EventClaim, EventRecord, OrderStore, PRUNED, Record, RecordState,
    StoreError, Tally, Transition, count, made_by_an_unreleased_build, time_of,
};

/// The schema, created when the store first connects to a database. `xorpay_store` numbers
/// it; a later release that changes the schema adds a step from each version to the next.
const SCHEMA: &str = "CREATE TABLE xorpay_orders (
        merchant         TEXT NOT NULL,
        order_id         TEXT NOT NULL,
        state            TEXT NOT NULL CHECK (state IN ('created', 'pending', 'paid', 'expired', 'pruned')),
        aoid             TEXT,
        price_fen        BIGINT NOT NULL CHECK (price_fen >= 0),
        revision         BIGINT NOT NULL DEFAULT 0,
        order_json       TEXT NOT NULL,
        data_json        TEXT NOT NULL,
        created_unix     BIGINT NOT NULL,
        submitted_unix   BIGINT,
        expired_unix     BIGINT,
        check_after_unix BIGINT,
        fulfilled_unix   BIGINT,
        claim_token      TEXT,
        claimed_until    TIMESTAMPTZ,
        attention        BOOLEAN NOT NULL DEFAULT false,
        updated_unix     BIGINT NOT NULL,
        seq              BIGSERIAL NOT NULL,
        PRIMARY KEY (merchant, order_id)
    );
    CREATE INDEX xorpay_orders_pending ON xorpay_orders (merchant, state, submitted_unix);
    CREATE INDEX xorpay_orders_recent ON xorpay_orders (merchant, created_unix);
    CREATE INDEX xorpay_orders_expired ON xorpay_orders (merchant, state, expired_unix);
    -- A fulfilment claim looks at two short ranges, as an event claim does: the paid orders
    -- never claimed, oldest change first, and the ones whose lease has ended. An order held
    -- under a lease (its hook failing, say) is in neither, however many there are.
    CREATE INDEX xorpay_orders_unfulfilled ON xorpay_orders (merchant, updated_unix, order_id)
        WHERE state = 'paid' AND fulfilled_unix IS NULL AND claimed_until IS NULL;
    CREATE INDEX xorpay_orders_refulfil ON xorpay_orders (merchant, claimed_until)
        WHERE state = 'paid' AND fulfilled_unix IS NULL AND claimed_until IS NOT NULL;
    -- Paid orders by when they were fulfilled, for pruning (a payment never touches it).
    CREATE INDEX xorpay_orders_fulfilled ON xorpay_orders (merchant, fulfilled_unix)
        WHERE state = 'paid' AND fulfilled_unix IS NOT NULL;
    CREATE INDEX xorpay_orders_attention ON xorpay_orders (merchant) WHERE attention;
    -- An aoid belongs to one order: a re-cut notification cannot give it to another.
    CREATE UNIQUE INDEX xorpay_orders_aoid ON xorpay_orders (merchant, aoid)
        WHERE aoid IS NOT NULL;
    -- The merchant table (store::merchant_table): a platform's merchants and their secrets.
    CREATE TABLE xorpay_merchants (
        name            TEXT NOT NULL PRIMARY KEY,
        aid             TEXT NOT NULL,
        secret          TEXT NOT NULL,
        previous_secret TEXT,
        retired_unix    BIGINT,
        enabled         BOOLEAN NOT NULL DEFAULT true,
        updated_unix    BIGINT NOT NULL
    );
    -- Events for the merchant's hook beyond a payment (store::events), one row each.
    CREATE TABLE xorpay_events (
        merchant      TEXT NOT NULL,
        order_id      TEXT NOT NULL,
        kind          TEXT NOT NULL,
        subject       TEXT NOT NULL,
        due_unix      BIGINT NOT NULL,
        done_unix     BIGINT,
        claim_token   TEXT,
        claimed_until TIMESTAMPTZ,
        PRIMARY KEY (merchant, order_id, kind, subject)
    );
    -- A claim looks at two short ranges: the events never claimed, by when they are due, and
    -- the ones claimed before whose lease has ended. An event held under a lease (its hook
    -- failing, say) is in neither, however many there are.
    CREATE INDEX xorpay_events_due ON xorpay_events (merchant, due_unix)
        WHERE done_unix IS NULL AND claimed_until IS NULL;
    CREATE INDEX xorpay_events_retry ON xorpay_events (merchant, claimed_until)
        WHERE done_unix IS NULL AND claimed_until IS NOT NULL;
    CREATE TABLE xorpay_store (schema_version INTEGER NOT NULL);
    INSERT INTO xorpay_store (schema_version) VALUES (2);";

/// The version [`SCHEMA`] records in `xorpay_store`.
const SCHEMA_VERSION: i32 = 2;

/// The key of the advisory lock the schema is created under: any fixed number, the same in
/// every instance ("xorpay" in ASCII).
const SCHEMA_LOCK: i64 = 0x786f_7270_6179;

/// The columns of a record, in [`read_record`]'s order.
const COLUMNS: &str = "order_id, state, aoid, price_fen, revision, order_json, data_json, \
                       created_unix, submitted_unix, expired_unix, fulfilled_unix, attention";

/// [`COLUMNS`], qualified, for an `UPDATE … FROM` that returns them.
const RETURNED: &str = "xorpay_orders.order_id, xorpay_orders.state, xorpay_orders.aoid, \
    xorpay_orders.price_fen, xorpay_orders.revision, xorpay_orders.order_json, \
    xorpay_orders.data_json, xorpay_orders.created_unix, xorpay_orders.submitted_unix, \
    xorpay_orders.expired_unix, xorpay_orders.fulfilled_unix, xorpay_orders.attention";

/// An [`OrderStore`] in a PostgreSQL database, shared by any number of instances.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    merchant: Arc<str>,
    /// Payments waiting to be written together (see [`batch`](super::batch)).
    payments: Batcher,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The pool's configuration holds the password: never printed.
        f.debug_struct("PgStore")
            .field("merchant", &self.merchant)
            .finish_non_exhaustive()
    }
}

/// The error of a write that may set `aoid`: the unique index on it refusing is
/// [`StoreError::AoidTaken`].
fn write_error(error: tokio_postgres::Error, aoid: Option<&str>) -> StoreError {
    let taken = error.as_db_error().is_some_and(|db| {
        *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
            && db.constraint() == Some("xorpay_orders_aoid")
    });
    match aoid {
        Some(aoid) if taken => StoreError::AoidTaken {
            aoid: aoid.to_owned(),
        },
        _ => database(error),
    }
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host/db`, with
    /// `sslmode=` and `sslrootcert=` as libpq reads them), with a pool of up to 16 connections,
    /// and creates the schema in a database that has none.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL is invalid, the database cannot be reached, or
    /// its xorpay tables were written by another version of xorpay (the message says what
    /// to do).
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        PgStore::connect_with_pool_size(url, 16).await
    }

    /// [`PgStore::connect`] with a pool of at most `size` connections.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with_pool_size(url: &str, size: usize) -> Result<PgStore, StoreError> {
        let (url, root_file) = take_root_file(url);
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|error| StoreError::Database(format!("invalid PostgreSQL URL: {error}")))?;
        let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(root_file.as_deref())?);
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size.max(1))
            .wait_timeout(Some(Duration::from_secs(30)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(database)?;
        let store = PgStore {
            payments: Batcher::start(pay::apply(pool.clone())),
            pool,
            merchant: Arc::from(""),
        };
        store.create_or_check_schema().await?;
        Ok(store)
    }

    /// This store, for one merchant of several sharing the database: its orders are keyed by
    /// `merchant` and order number, so two merchants' order numbers never collide. A store
    /// connected with [`PgStore::connect`] is the unnamed merchant's.
    pub fn merchant(&self, merchant: &str) -> PgStore {
        PgStore {
            pool: self.pool.clone(),
            merchant: Arc::from(merchant),
            payments: self.payments.clone(),
        }
    }

    /// Creates the schema in a database that has none, or checks that the one it finds is
    /// this release's; under an advisory lock, so that instances connecting at once create
    /// it once.
    async fn create_or_check_schema(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(database)?;
        let transaction = client.transaction().await.map_err(database)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(database)?;
        let found = transaction
            .query_one(
                "SELECT to_regclass('xorpay_store') IS NOT NULL,
                        to_regclass('xorpay_orders') IS NOT NULL,
                        to_regclass('xorpay_schema') IS NOT NULL",
                &[],
            )
            .await
            .map_err(database)?;
        let (store, orders, unreleased): (bool, bool, bool) =
            (found.get(0), found.get(1), found.get(2));
        if store {
            let version: Option<i32> = transaction
                .query_one("SELECT MAX(schema_version) FROM xorpay_store", &[])
                .await
                .map_err(database)?
                .get(0);
            return match version {
                Some(1) => Err(made_by_an_unreleased_build()),
                Some(SCHEMA_VERSION) => Ok(()),
                _ => Err(StoreError::Database(format!(
                    "the database's schema is version {version:?}, written by a newer release \
                     of xorpay than this one (which knows version {SCHEMA_VERSION}): upgrade \
                     xorpay"
                ))),
            };
        }
        if unreleased {
            return Err(StoreError::Database(
                "the database holds the tables of an unreleased version of xorpay before \
                 0.1.0, which this release cannot read: drop them (`DROP TABLE xorpay_orders, \
                 xorpay_schema`) and connect again"
                    .to_owned(),
            ));
        }
        if orders {
            return Err(StoreError::Database(
                "the database has a table `xorpay_orders` that this store did not make: \
                 connect to another database or schema"
                    .to_owned(),
            ));
        }
        transaction.batch_execute(SCHEMA).await.map_err(database)?;
        transaction.commit().await.map_err(database)
    }

    /// Runs one statement and reads the records it returns.
    async fn select(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Record>, StoreError> {
        let client = self.pool.get().await.map_err(database)?;
        let statement = client.prepare_cached(sql).await.map_err(database)?;
        let rows = client
            .query(&statement, parameters)
            .await
            .map_err(database)?;
        rows.iter().map(read_record).collect()
    }

    /// Runs one statement; returns how many rows it changed.
    async fn execute(
        &self,
        sql: &str,
        parameters: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.pool.get().await.map_err(database)?;
        let statement = client.prepare_cached(sql).await.map_err(database)?;
        client
            .execute(&statement, parameters)
            .await
            .map_err(database)
    }
}

/// The URL without its `sslrootcert=` parameter (which tokio-postgres does not read), and the
/// file that parameter names.
fn take_root_file(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut root_file = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(file) => {
                root_file = Some(file.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = match kept.is_empty() {
        true => base.to_owned(),
        false => format!("{base}?{}", kept.join("&")),
    };
    (url, root_file)
}

/// Rustls with aws-lc, trusting the certificates in `root_file`, or else the system's.
fn tls_config(root_file: Option<&str>) -> Result<rustls::ClientConfig, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    match root_file {
        Some(path) => {
            let pem = std::fs::read(path)
                .map_err(|error| StoreError::Database(format!("sslrootcert {path}: {error}")))?;
            for certificate in rustls_pemfile::certs(&mut pem.as_slice()) {
                let certificate = certificate.map_err(|error| {
                    StoreError::Database(format!("sslrootcert {path}: {error}"))
                })?;
                roots.add(certificate).map_err(database)?;
            }
        }
        None => {
            // Certificates the system offers that rustls cannot read are skipped.
            for certificate in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(certificate);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(database)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// One row as a record; what PostgreSQL cannot hold for us is checked here.
fn read_record(row: &Row) -> Result<Record, StoreError> {
    let order_id: String = row.try_get(0).map_err(database)?;
    let corrupt = |reason: &str| StoreError::Corrupt {
        order_id: order_id.clone(),
        reason: reason.to_owned(),
    };
    let state: String = row.try_get(1).map_err(database)?;
    let price_fen: i64 = row.try_get(3).map_err(database)?;
    let revision: i64 = row.try_get(4).map_err(database)?;
    let created: i64 = row.try_get(7).map_err(database)?;
    Ok(Record {
        state: RecordState::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
        aoid: row.try_get(2).map_err(database)?,
        price_fen: u64::try_from(price_fen).map_err(|_| corrupt("negative price"))?,
        revision: u32::try_from(revision).map_err(|_| corrupt("revision out of range"))?,
        order: row.try_get(5).map_err(database)?,
        data: row.try_get(6).map_err(database)?,
        created_at: time_of(&order_id, Some(created))?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        submitted_at: time_of(&order_id, row.try_get(8).map_err(database)?)?,
        expired_at: time_of(&order_id, row.try_get(9).map_err(database)?)?,
        fulfilled_at: time_of(&order_id, row.try_get(10).map_err(database)?)?,
        attention: row.try_get(11).map_err(database)?,
        order_id: order_id.clone(),
    })
}

fn big(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn applied(updated: u64) -> Transition {
    match updated {
        0 => Transition::NotApplied,
        _ => Transition::Applied,
    }
}

impl OrderStore for PgStore {
    async fn insert(&self, record: &Record) -> Result<(), StoreError> {
        let client = self.pool.get().await.map_err(database)?;
        let statement = client
            .prepare_cached(
                "INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                     order_json, data_json, created_unix, submitted_unix, expired_unix, attention,
                     updated_unix)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $9)
                 ON CONFLICT (merchant, order_id) DO NOTHING",
            )
            .await
            .map_err(database)?;
        let inserted = client
            .execute(
                &statement,
                &[
                    &&*self.merchant,
                    &record.order_id,
                    &record.state.as_str(),
                    &record.aoid,
                    &big(record.price_fen),
                    &i64::from(record.revision),
                    &record.order,
                    &record.data,
                    &unix(record.created_at),
                    &record.submitted_at.map(unix),
                    &record.expired_at.map(unix),
                    &record.attention,
                ],
            )
            .await
            .map_err(|error| write_error(error, record.aoid.as_deref()))?;
        if inserted == 0 {
            return Err(StoreError::Duplicate(record.order_id.clone()));
        }
        Ok(())
    }

    async fn change(&self, change: &Change<'_>) -> Result<Transition, StoreError> {
        // A notification's payment, with the others waiting: one commit for all.
        if let Some(payment) = Payment::of(change, &self.merchant) {
            match self.payments.pay(payment).await {
                Answer::Applied => return Ok(Transition::Applied),
                Answer::Failed(error) => return Err(error),
                Answer::Alone => {}
            }
        }
        let (aoid_mode, aoid): (i32, Option<&str>) = match change.aoid {
            AoidCondition::Any => (0, None),
            AoidCondition::Is(aoid) => (1, Some(aoid)),
            AoidCondition::UnknownOr(aoid) => (2, Some(aoid)),
            AoidCondition::Unknown => (3, None),
        };
        let from: Vec<&str> = change.from.iter().map(|state| state.as_str()).collect();
        let mut client = self.pool.get().await.map_err(database)?;
        let statement = client
            .prepare_cached(
                "UPDATE xorpay_orders SET
                     check_after_unix = CASE WHEN state = $5 THEN check_after_unix END,
                     state = $5, aoid = COALESCE($6, aoid), revision = $7, data_json = $8,
                     submitted_unix = COALESCE($9, submitted_unix),
                     expired_unix = COALESCE($10, expired_unix), attention = $11,
                     updated_unix = $12
                 WHERE merchant = $15 AND order_id = $1 AND price_fen = $3
                   AND state = ANY($2::text[])
                   AND ($4::bigint IS NULL OR revision = $4)
                   AND CASE $13::integer WHEN 0 THEN true WHEN 1 THEN aoid = $14
                                         WHEN 2 THEN aoid IS NULL OR aoid = $14
                                         ELSE aoid IS NULL END",
            )
            .await
            .map_err(database)?;
        let parameters: [&(dyn ToSql + Sync); 15] = [
            &change.order_id,
            &from,
            &big(change.price_fen),
            &change.revision.map(i64::from),
            &change.to.as_str(),
            &change.new_aoid,
            &i64::from(change.new_revision),
            &change.data,
            &change.submitted_at.map(unix),
            &change.expired_at.map(unix),
            &change.attention,
            &unix(change.at),
            &aoid_mode,
            &aoid,
            &&*self.merchant,
        ];
        // PostgreSQL counts every row the WHERE matched, changed values or not.
        if change.events.is_empty() {
            let updated = client
                .execute(&statement, &parameters)
                .await
                .map_err(|error| write_error(error, change.new_aoid))?;
            return Ok(applied(updated));
        }
        // With its events, in one transaction: both are kept, or neither.
        let transaction = client.transaction().await.map_err(database)?;
        let updated = transaction
            .execute(&statement, &parameters)
            .await
            .map_err(|error| write_error(error, change.new_aoid))?;
        if updated > 0 {
            events::record(&transaction, &self.merchant, change.order_id, change.events).await?;
        }
        transaction.commit().await.map_err(database)?;
        Ok(applied(updated))
    }

    async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders
             WHERE merchant = $1 AND order_id = $2 AND state <> '{PRUNED}'"
        );
        let records = self.select(&sql, &[&&*self.merchant, &order_id]).await?;
        Ok(records.into_iter().next())
    }

    async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit_to: usize,
    ) -> Result<Vec<Record>, StoreError> {
        // One indexed read per kind of order due, so that a pass costs what is due, not the
        // size of the book (an OR across states would scan every order).
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT * FROM xorpay_orders
                 WHERE merchant = $5 AND state = 'created' AND created_unix < $2
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = $5 AND state = 'pending' AND submitted_unix < $2
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = $5 AND state = 'expired' AND expired_unix >= $3
                 UNION ALL
                 SELECT * FROM xorpay_orders
                 WHERE merchant = $5 AND attention AND state = 'expired'
                   AND (expired_unix IS NULL OR expired_unix < $3)) AS due
             WHERE check_after_unix IS NULL OR check_after_unix <= $1
             ORDER BY updated_unix, order_id LIMIT $4"
        );
        self.select(
            &sql,
            &[
                &unix(now),
                &unix(stale_before),
                &unix(expired_since),
                &limit(limit_to),
                &&*self.merchant,
            ],
        )
        .await
    }

    async fn check_again_at(&self, order_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        self.execute(
            "UPDATE xorpay_orders SET check_after_unix = $3 WHERE merchant = $1 AND order_id = $2",
            &[&&*self.merchant, &order_id, &unix(at)],
        )
        .await
        .map(drop)
    }

    async fn recent(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = $1 AND state <> '{PRUNED}'
             ORDER BY created_unix DESC, seq DESC LIMIT $2"
        );
        self.select(&sql, &[&&*self.merchant, &limit(limit_to)])
            .await
    }

    async fn needing_attention(&self, limit_to: usize) -> Result<Vec<Record>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM xorpay_orders WHERE merchant = $1 AND attention
             ORDER BY order_id LIMIT $2"
        );
        self.select(&sql, &[&&*self.merchant, &limit(limit_to)])
            .await
    }

    async fn tally(&self) -> Result<Tally, StoreError> {
        let client = self.pool.get().await.map_err(database)?;
        let statement = client
            .prepare_cached(
                "SELECT
                     (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = $1 AND state = 'pending'),
                     (SELECT MIN(submitted_unix) FROM xorpay_orders
                      WHERE merchant = $1 AND state = 'pending'),
                     (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = $1 AND attention),
                     (SELECT COUNT(*) FROM xorpay_orders WHERE merchant = $1 AND attention
                        AND state = 'paid' AND aoid IS NOT NULL)",
            )
            .await
            .map_err(database)?;
        let row = client
            .query_one(&statement, &[&&*self.merchant])
            .await
            .map_err(database)?;
        let pending: i64 = row.try_get(0).map_err(database)?;
        let oldest: Option<i64> = row.try_get(1).map_err(database)?;
        let attention: i64 = row.try_get(2).map_err(database)?;
        let with_aoid: i64 = row.try_get(3).map_err(database)?;
        Ok(Tally::new(
            count(pending),
            time_of("(oldest pending)", oldest)?,
            count(attention),
            count(with_aoid),
        ))
    }

    async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        if claim.limit == 0 {
            return Ok(Vec::new());
        }
        // The rows are picked once, in CTEs (a subquery under `IN` can be run again for every
        // row the update scans, each run taking its own `LIMIT`). Rows another claimer holds
        // locked right now are skipped, not waited for. Any order: the oldest changes among
        // the first of two index ranges, the orders never claimed and those whose lease ended
        // (schema: `xorpay_orders_unfulfilled`, `_refulfil`). One order: by its key.
        let picked = match claim.order_id {
            Some(_) => {
                "picked AS (
                     SELECT order_id FROM xorpay_orders
                     WHERE merchant = $4 AND order_id = $3 AND state = 'paid'
                       AND fulfilled_unix IS NULL
                       AND (claimed_until IS NULL OR claimed_until <= now())
                     FOR UPDATE SKIP LOCKED)"
            }
            None => {
                "fresh AS (
                     SELECT order_id, updated_unix FROM xorpay_orders
                     WHERE merchant = $4 AND state = 'paid' AND fulfilled_unix IS NULL
                       AND claimed_until IS NULL
                     ORDER BY updated_unix, order_id LIMIT $3::bigint
                     FOR UPDATE SKIP LOCKED),
                 retried AS (
                     SELECT order_id, updated_unix FROM xorpay_orders
                     WHERE merchant = $4 AND state = 'paid' AND fulfilled_unix IS NULL
                       AND claimed_until IS NOT NULL AND claimed_until <= now()
                     ORDER BY claimed_until LIMIT $3::bigint
                     FOR UPDATE SKIP LOCKED),
                 picked AS (
                     SELECT order_id FROM (
                         SELECT * FROM fresh UNION ALL SELECT * FROM retried) AS candidates
                     ORDER BY updated_unix, order_id LIMIT $3::bigint)"
            }
        };
        let sql = format!(
            "WITH {picked}
             UPDATE xorpay_orders SET claim_token = $1,
                 claimed_until = now() + $2::bigint * interval '1 millisecond'
             FROM picked
             WHERE xorpay_orders.merchant = $4 AND xorpay_orders.order_id = picked.order_id
             RETURNING {RETURNED}"
        );
        let which: &(dyn tokio_postgres::types::ToSql + Sync) = match &claim.order_id {
            Some(order_id) => order_id,
            None => &limit(claim.limit),
        };
        self.select(
            &sql,
            &[&claim.token, &millis(claim.lease), which, &&*self.merchant],
        )
        .await
    }

    async fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        let changed = self
            .execute(
                "UPDATE xorpay_orders SET fulfilled_unix = $4, claim_token = NULL,
                     claimed_until = NULL
                 WHERE merchant = $1 AND order_id = $2 AND claim_token = $3
                   AND fulfilled_unix IS NULL",
                &[&&*self.merchant, &order_id, &token, &unix(at)],
            )
            .await?;
        Ok(match changed {
            1 => Transition::Applied,
            _ => Transition::NotApplied,
        })
    }

    async fn claim_event(&self, claim: &EventClaim<'_>) -> Result<Option<EventRecord>, StoreError> {
        events::claim(&self.pool, &self.merchant, claim).await
    }

    async fn finish_event(
        &self,
        event: &EventRecord,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        events::finish(&self.pool, &self.merchant, event, token, unix(at)).await
    }

    async fn release_event(
        &self,
        event: &EventRecord,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        events::release(&self.pool, &self.merchant, event, token, retry_after).await
    }

    async fn prune(&self, before: OffsetDateTime, limit_to: usize) -> Result<u64, StoreError> {
        prune::prune(&self.pool, &self.merchant, unix(before), limit(limit_to)).await
    }

    async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE xorpay_orders SET claim_token = NULL,
                 claimed_until = now() + $4::bigint * interval '1 millisecond'
             WHERE merchant = $1 AND order_id = $2 AND claim_token = $3",
            &[&&*self.merchant, &order_id, &token, &millis(retry_after)],
        )
        .await
        .map(drop)
    }
}
