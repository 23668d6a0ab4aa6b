//! Durable orders: the [`OrderStore`] contract, `SqliteStore` (feature `sqlite`) for one
//! process, and `PgStore` (feature `postgres`) and `MySqlStore` (feature `mysql`) for several
//! instances on one database; [`AnyStore::open`] opens the one a URL names.
//!
//! A store keeps each order as a [`Record`]: a few columns it can select on (the order number,
//! the state, XorPay's `aoid`, the price, a revision, some times, the fulfilment claim) and two
//! JSON texts it never reads (the merchant's struct, and what the order's state knows). It
//! knows nothing of typed orders, of XorPay or of HTTP: the lifecycle service
//! (`Payments`, feature `client`) turns records into typed orders and back and decides every
//! change. What a store guarantees is what those decisions rest on:
//!
//! - a write is committed and durable when its future returns `Ok`;
//! - a [`Change`] applies only if the row is still as it expects (its state, price, `aoid`
//!   and, for a paid order, exact revision), atomically: of two changes made from one
//!   reading, at most one applies, and the store says which ([`Transition`]), whatever its
//!   driver counts as an affected row;
//! - a fulfilment claim ([`OrderStore::claim`]) is exclusive until its lease ends, on the
//!   database's own clock, so that several processes sweeping at once never hand one order
//!   to the fulfilment hook together; so is an event's ([`OrderStore::claim_event`]);
//! - the events a [`Change`] carries are written in its transaction, each at most once;
//! - a pruned order ([`OrderStore::prune`]) leaves a tombstone that keeps its number taken.
//!
//! The contract asks for answers, not for a way of getting them: no `RETURNING`, and no
//! single statement per operation is required (a store may claim rows under a token, then
//! read them back by that token, or write the payments waiting at one moment together, as
//! every store here does).
//!
//! Implement [`OrderStore`] for another database by following this contract;
//! `tests/store_contract.rs` in the repository runs the same suite against every store. The
//! service keeps its store as an [`AnyStore`], so a store can be picked at run time, from a
//! URL ([`AnyStore::open`]) or in code:
//!
//! ```no_run
//! # async fn run(database_url: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
//! use xorpay::store::{AnyStore, PgStore, SqliteStore};
//!
//! let store: AnyStore = match database_url {
//!     Some(url) => PgStore::connect(&url).await?.into(),
//!     None => SqliteStore::open("orders.sqlite")?.into(),
//! };
//! # let _ = store;
//! # Ok(()) }
//! ```

use core::future::Future;
use core::time::Duration;

use time::OffsetDateTime;

mod any;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod batch;
mod events;
pub mod merchant_table;
#[cfg(feature = "mysql")]
mod mysql;
mod open;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
pub use any::AnyStore;
pub use events::{EventClaim, EventRecord, NewEvent};
pub use merchant_table::{MerchantRecord, MerchantTable};
#[cfg(feature = "mysql")]
pub use mysql::MySqlStore;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Why the store failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("order store: {0}")]
    Database(String),
    /// A stored order could not be read back (corrupt, or edited to disagree with itself).
    #[error("order store: stored order {order_id:?} is unreadable: {reason}")]
    Corrupt {
        /// The order number.
        order_id: String,
        /// What was wrong.
        reason: String,
    },
    /// An order with this number is already stored.
    #[error("order store: order {0:?} already exists")]
    Duplicate(String),
    /// The `aoid` is already another stored order's. XorPay names each order by an `aoid` of
    /// its own, so this write is refused: it would come from a notification whose unseparated
    /// signed fields were re-cut to name another order (see
    /// [`VerifiedNotification::check`](crate::notify::VerifiedNotification::check)).
    #[error("order store: aoid {aoid} is another order's")]
    AoidTaken {
        /// The aoid.
        aoid: String,
    },
}

/// A stored Unix time (seconds) of the order `order_id`; a value out of range is
/// [`StoreError::Corrupt`]. Every store keeps its times so.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) fn time_of(
    order_id: &str,
    seconds: Option<i64>,
) -> Result<Option<OffsetDateTime>, StoreError> {
    seconds
        .map(|seconds| {
            OffsetDateTime::from_unix_timestamp(seconds).map_err(|error| StoreError::Corrupt {
                order_id: order_id.to_owned(),
                reason: error.to_string(),
            })
        })
        .transpose()
}

/// The state a pruned order's row is left in: its tombstone (see [`OrderStore::prune`]). No
/// read returns it, and no [`RecordState`] names it.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) const PRUNED: &str = "pruned";

/// The error of a database whose xorpay tables an unreleased build of xorpay made: schema
/// version 1, without the hook's events or pruned orders. (This release's schema is version
/// 2; nothing was released with version 1, so there is no step from it.)
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) fn made_by_an_unreleased_build() -> StoreError {
    StoreError::Database(
        "the database's xorpay tables were made by an unreleased build of xorpay (schema \
         version 1): drop xorpay's tables (xorpay_orders, xorpay_events, xorpay_merchants, \
         xorpay_store) or use a new database, and connect again"
            .to_owned(),
    )
}

/// A lease or wait in milliseconds, as the stores add it to the database's clock: at most a
/// century. A longer one (`Duration::MAX`, say) would overflow the databases' date
/// arithmetic, and every claim made with it would fail.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) fn lease_millis(lease: Duration) -> i64 {
    const CENTURY_MS: u128 = 100 * 365 * 86_400 * 1_000;
    i64::try_from(lease.as_millis().min(CENTURY_MS)).unwrap_or(i64::MAX)
}

/// A `COUNT(*)` as read from a database (never negative).
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// What a conditional write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "only `Applied` means this call made the change"]
pub enum Transition {
    /// This call made the change.
    Applied,
    /// The row was no longer as expected (another writer got there first): read it back
    /// before concluding anything.
    NotApplied,
}

/// The state column of a [`Record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordState {
    /// Stored, not yet (known to be) accepted by XorPay.
    Created,
    /// Accepted by XorPay, not paid.
    Pending,
    /// Paid.
    Paid,
    /// Expired unpaid, or given up.
    Expired,
}

impl RecordState {
    /// The state's name in storage, e.g. `"pending"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordState::Created => "created",
            RecordState::Pending => "pending",
            RecordState::Paid => "paid",
            RecordState::Expired => "expired",
        }
    }

    /// The state with this name.
    pub fn parse(name: &str) -> Option<RecordState> {
        Some(match name {
            "created" => RecordState::Created,
            "pending" => RecordState::Pending,
            "paid" => RecordState::Paid,
            "expired" => RecordState::Expired,
            _ => return None,
        })
    }
}

/// One order as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The merchant's order number: the key.
    pub order_id: String,
    /// The state.
    pub state: RecordState,
    /// XorPay's order id, once known.
    pub aoid: Option<String>,
    /// The amount, in fen.
    pub price_fen: u64,
    /// The revision of a paid order's record (0 before it is paid).
    pub revision: u32,
    /// The merchant's struct, as JSON: written once, with the record.
    pub order: String,
    /// What the state knows, as JSON.
    pub data: String,
    /// When it was stored (the service's clock).
    pub created_at: OffsetDateTime,
    /// When XorPay accepted it.
    pub submitted_at: Option<OffsetDateTime>,
    /// When it expired.
    pub expired_at: Option<OffsetDateTime>,
    /// When its fulfilment was recorded.
    pub fulfilled_at: Option<OffsetDateTime>,
    /// Whether a person must act on it: a paid order with a refund in doubt, or whose `aoid`
    /// only XorPay's dashboard can tell; an order XorPay holds as `fee_error` (paid, its fee
    /// not taken: the prepaid balance needs topping up).
    pub attention: bool,
}

/// What the stored `aoid` must be for a [`Change`] to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AoidCondition<'a> {
    /// Anything.
    Any,
    /// Exactly this (so not unknown).
    Is(&'a str),
    /// Unknown, or this.
    UnknownOr(&'a str),
    /// Unknown.
    Unknown,
}

/// A conditional change of one record: applied only if the row is in one of `from`, at
/// `price_fen`, with an `aoid` as `aoid` demands and, when `revision` is set, at exactly that
/// revision. Then the row takes the new state, data and revision; `new_aoid`, `submitted_at`
/// and `expired_at` are set when given (and otherwise kept), and a changed state clears the
/// time set by [`OrderStore::check_again_at`].
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The order number.
    pub order_id: &'a str,
    /// The states the row may be in.
    pub from: &'a [RecordState],
    /// The price the row must have.
    pub price_fen: u64,
    /// What the row's `aoid` must be.
    pub aoid: AoidCondition<'a>,
    /// The exact revision the row must have, if any.
    pub revision: Option<u32>,
    /// The new state.
    pub to: RecordState,
    /// The `aoid` to record, if one.
    pub new_aoid: Option<&'a str>,
    /// The new revision.
    pub new_revision: u32,
    /// The new state data, as JSON.
    pub data: &'a str,
    /// When XorPay accepted the order, if this change says so.
    pub submitted_at: Option<OffsetDateTime>,
    /// When the order expired, if this change says so.
    pub expired_at: Option<OffsetDateTime>,
    /// Whether a person must act on the order afterwards (see [`Record::attention`]).
    pub attention: bool,
    /// Events for the merchant's hook, recorded in the same transaction when the change
    /// applies (each once: see [`NewEvent`]).
    pub events: &'a [NewEvent<'a>],
    /// When (the service's clock).
    pub at: OffsetDateTime,
}

/// A request for fulfilment claims: paid, unfulfilled orders (`order_id` only, if given)
/// whose claim is free or whose lease has ended, claimed for `lease` under `token`.
///
/// The orders never claimed are taken oldest change first, and those whose lease has ended
/// (a hook that failed, say) in the order their leases ended; a claim of several takes the
/// oldest changes among the first of each. An order held under a lease costs a claim
/// nothing, however many there are.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// Only this order, or any.
    pub order_id: Option<&'a str>,
    /// The claimer's token, unique per claim.
    pub token: &'a str,
    /// How long the claim is exclusive, on the database's clock.
    pub lease: Duration,
    /// The most orders claimed.
    pub limit: usize,
}

/// The order book's counts behind the service's gauges (feature `metrics`), read through
/// indexes: their cost follows the orders counted, not the size of the book.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tally {
    /// Orders `pending`.
    pub pending: u64,
    /// When the longest-pending order was accepted by XorPay.
    pub oldest_pending: Option<OffsetDateTime>,
    /// Orders a person must act on ([`Record::attention`]).
    pub attention: u64,
    /// Of those, the `paid` ones whose `aoid` is known. (The service flags a paid order for a
    /// refund in doubt or for an unknown `aoid`, and a refund needs the `aoid`: each of these
    /// has a refund in doubt.)
    pub paid_attention_with_aoid: u64,
}

impl Tally {
    /// A tally of these counts.
    pub fn new(
        pending: u64,
        oldest_pending: Option<OffsetDateTime>,
        attention: u64,
        paid_attention_with_aoid: u64,
    ) -> Tally {
        Tally {
            pending,
            oldest_pending,
            attention,
            paid_attention_with_aoid,
        }
    }
}

/// Where orders live between the request that creates them and their fulfilment. See the
/// [module docs](self) for the contract; `SqliteStore` (feature `sqlite`), `PgStore`
/// (feature `postgres`) and `MySqlStore` (feature `mysql`) implement it.
///
/// Implement it with `async fn`s. The service holds any store as an [`AnyStore`], which is
/// how one is chosen at run time.
pub trait OrderStore: Send + Sync + 'static {
    /// Stores a new order.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the order number is taken.
    fn insert(&self, record: &Record) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies `change` if the row is still as it expects: [`Transition::Applied`] when this
    /// call made it, [`Transition::NotApplied`] when the row was not as expected. A change
    /// that applies but leaves the row as it was (flagging an order already flagged) is
    /// applied.
    fn change(
        &self,
        change: &Change<'_>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// The order with this number.
    fn load(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send;

    /// The orders reconciliation should ask XorPay about at `now`, least recently changed
    /// first, at most `limit`: `created` ones stored before `stale_before`, `pending` ones
    /// submitted before it, and `expired` ones that expired at or after `expired_since` or
    /// need a person ([`Record::attention`]), each only once the time set by
    /// [`OrderStore::check_again_at`] has come.
    fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// Leaves the order out of [`OrderStore::due_for_check`] until `at`.
    fn check_again_at(
        &self,
        order_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The most recently stored orders, newest first, at most `limit`.
    fn recent(&self, limit: usize) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// Orders a person must act on ([`Record::attention`]), at most `limit`.
    fn needing_attention(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// Counts pending orders (and finds the longest-pending one's `submitted_at`) and orders
    /// needing attention (see [`Tally`]), through indexes.
    fn tally(&self) -> impl Future<Output = Result<Tally, StoreError>> + Send;

    /// Claims paid, unfulfilled orders for fulfilment (see [`Claim`]); returns the orders
    /// claimed.
    fn claim(
        &self,
        claim: &Claim<'_>,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// Records the order fulfilled at `at`, if `token` still holds its claim.
    fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Gives up the claim `token` holds on the order because its fulfilment failed: no
    /// claimer takes it for `retry_after` (on the database's clock), so that an order that
    /// keeps failing does not hold up the others.
    fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims the next event due (see [`EventClaim`]), exclusively until its lease ends.
    fn claim_event(
        &self,
        claim: &EventClaim<'_>,
    ) -> impl Future<Output = Result<Option<EventRecord>, StoreError>> + Send;

    /// Records the event done at `at`, if `token` still holds its claim.
    fn finish_event(
        &self,
        event: &EventRecord,
        token: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Gives up the claim `token` holds on the event (its hook failed): no claimer takes it
    /// for `retry_after` (on the database's clock).
    fn release_event(
        &self,
        event: &EventRecord,
        token: &str,
        retry_after: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Prunes at most `limit` closed orders, in one transaction, and returns how many. An
    /// order is closed before `before` when it is `paid` and was fulfilled before it, or
    /// `expired` and expired before it; has not changed since (its last [`Change`] was
    /// before it); needs no person ([`Record::attention`]); and has no event not yet done.
    ///
    /// A pruned order's row becomes its tombstone: the order number, `aoid`, price and times
    /// stay, the merchant's struct and the state's data are erased, and its events are
    /// deleted. [`OrderStore::insert`] refuses the number ([`StoreError::Duplicate`]), a
    /// change never applies to it, and no read returns it. The choice of `before` is the
    /// caller's: the service never passes one inside XorPay's retry span or reconciliation's
    /// window (`Payments::prune`).
    fn prune(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}
