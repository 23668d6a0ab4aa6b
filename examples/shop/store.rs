//! Where the shop keeps its orders: a SQLite file for one instance, or a PostgreSQL database
//! for several instances behind one address. Either is the same store to the service.

use core::time::Duration;

use xorpay::store::{Change, Claim, OrderStore, PgStore, Record, StoreError, Transition};
use xorpay::time::OffsetDateTime;

use xorpay::SqliteStore;

/// The shop's order store.
pub(crate) enum ShopStore {
    /// One instance, one file.
    Sqlite(SqliteStore),
    /// Any number of instances, one database.
    Postgres(PgStore),
}

/// Runs the same call on whichever store it is.
macro_rules! each {
    ($store:expr, $call:ident($($argument:expr),*)) => {
        match $store {
            ShopStore::Sqlite(store) => store.$call($($argument),*).await,
            ShopStore::Postgres(store) => store.$call($($argument),*).await,
        }
    };
}

impl OrderStore for ShopStore {
    async fn insert(&self, record: &Record) -> Result<(), StoreError> {
        each!(self, insert(record))
    }

    async fn change(&self, change: &Change<'_>) -> Result<Option<String>, StoreError> {
        each!(self, change(change))
    }

    async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        each!(self, load(order_id))
    }

    async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        each!(self, due_for_check(now, stale_before, expired_since, limit))
    }

    async fn check_again_at(&self, order_id: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        each!(self, check_again_at(order_id, at))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Record>, StoreError> {
        each!(self, list(after, limit))
    }

    async fn recent(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        each!(self, recent(limit))
    }

    async fn needing_attention(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        each!(self, needing_attention(limit))
    }

    async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        each!(self, claim(claim))
    }

    async fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        each!(self, mark_fulfilled(order_id, token, at))
    }

    async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        each!(self, release_claim(order_id, token, retry_after))
    }
}
