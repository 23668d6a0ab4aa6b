//! [`AnyStore`]: any [`OrderStore`], its type erased, so that the service has one type
//! whatever store it runs on and a store can be chosen at run time.
//!
//! `OrderStore`'s methods are `async fn`s, pleasant to implement but not callable through
//! `dyn`. `Erased` is the same contract with boxed futures, implemented for every store; an
//! `AnyStore` holds one behind an `Arc`. The cost is one allocation per store call, next to a
//! database round trip.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use time::OffsetDateTime;

use super::{
    Change, Claim, EventClaim, EventRecord, OrderStore, Record, StoreError, Tally, Transition,
};

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Any order store, chosen at run time: what `Payments` keeps. Every [`OrderStore`] converts
/// into one (`store.into()`, or `AnyStore::new(store)`).
#[derive(Clone)]
pub struct AnyStore(Arc<dyn Erased>);

impl AnyStore {
    /// Erases `store`'s type.
    pub fn new(store: impl OrderStore) -> AnyStore {
        AnyStore(Arc::new(store))
    }
}

impl<S: OrderStore> From<S> for AnyStore {
    fn from(store: S) -> AnyStore {
        AnyStore::new(store)
    }
}

impl fmt::Debug for AnyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyStore").finish_non_exhaustive()
    }
}

/// [`OrderStore`] with boxed futures, callable through `dyn`.
trait Erased: Send + Sync + 'static {
    fn insert<'a>(&'a self, record: &'a Record) -> Boxed<'a, ()>;
    fn change<'a>(&'a self, change: &'a Change<'a>) -> Boxed<'a, Transition>;
    fn load<'a>(&'a self, order_id: &'a str) -> Boxed<'a, Option<Record>>;
    fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Boxed<'_, Vec<Record>>;
    fn check_again_at<'a>(&'a self, order_id: &'a str, at: OffsetDateTime) -> Boxed<'a, ()>;
    fn recent(&self, limit: usize) -> Boxed<'_, Vec<Record>>;
    fn needing_attention(&self, limit: usize) -> Boxed<'_, Vec<Record>>;
    fn tally(&self) -> Boxed<'_, Tally>;
    fn claim<'a>(&'a self, claim: &'a Claim<'a>) -> Boxed<'a, Vec<Record>>;
    fn mark_fulfilled<'a>(
        &'a self,
        order_id: &'a str,
        token: &'a str,
        at: OffsetDateTime,
    ) -> Boxed<'a, Transition>;
    fn release_claim<'a>(
        &'a self,
        order_id: &'a str,
        token: &'a str,
        retry_after: Duration,
    ) -> Boxed<'a, ()>;
    fn claim_event<'a>(&'a self, claim: &'a EventClaim<'a>) -> Boxed<'a, Option<EventRecord>>;
    fn finish_event<'a>(
        &'a self,
        event: &'a EventRecord,
        token: &'a str,
        at: OffsetDateTime,
    ) -> Boxed<'a, Transition>;
    fn release_event<'a>(
        &'a self,
        event: &'a EventRecord,
        token: &'a str,
        retry_after: Duration,
    ) -> Boxed<'a, ()>;
    fn prune(&self, before: OffsetDateTime, limit: usize) -> Boxed<'_, u64>;
}

impl<S: OrderStore> Erased for S {
    fn insert<'a>(&'a self, record: &'a Record) -> Boxed<'a, ()> {
        Box::pin(OrderStore::insert(self, record))
    }
    fn change<'a>(&'a self, change: &'a Change<'a>) -> Boxed<'a, Transition> {
        Box::pin(OrderStore::change(self, change))
    }
    fn load<'a>(&'a self, order_id: &'a str) -> Boxed<'a, Option<Record>> {
        Box::pin(OrderStore::load(self, order_id))
    }
    fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Boxed<'_, Vec<Record>> {
        Box::pin(OrderStore::due_for_check(
            self,
            now,
            stale_before,
            expired_since,
            limit,
        ))
    }
    fn check_again_at<'a>(&'a self, order_id: &'a str, at: OffsetDateTime) -> Boxed<'a, ()> {
        Box::pin(OrderStore::check_again_at(self, order_id, at))
    }
    fn recent(&self, limit: usize) -> Boxed<'_, Vec<Record>> {
        Box::pin(OrderStore::recent(self, limit))
    }
    fn needing_attention(&self, limit: usize) -> Boxed<'_, Vec<Record>> {
        Box::pin(OrderStore::needing_attention(self, limit))
    }
    fn tally(&self) -> Boxed<'_, Tally> {
        Box::pin(OrderStore::tally(self))
    }
    fn claim<'a>(&'a self, claim: &'a Claim<'a>) -> Boxed<'a, Vec<Record>> {
        Box::pin(OrderStore::claim(self, claim))
    }
    fn mark_fulfilled<'a>(
        &'a self,
        order_id: &'a str,
        token: &'a str,
        at: OffsetDateTime,
    ) -> Boxed<'a, Transition> {
        Box::pin(OrderStore::mark_fulfilled(self, order_id, token, at))
    }
    fn release_claim<'a>(
        &'a self,
        order_id: &'a str,
        token: &'a str,
        retry_after: Duration,
    ) -> Boxed<'a, ()> {
        Box::pin(OrderStore::release_claim(
            self,
            order_id,
            token,
            retry_after,
        ))
    }
    fn claim_event<'a>(&'a self, claim: &'a EventClaim<'a>) -> Boxed<'a, Option<EventRecord>> {
        Box::pin(OrderStore::claim_event(self, claim))
    }
    fn finish_event<'a>(
        &'a self,
        event: &'a EventRecord,
        token: &'a str,
        at: OffsetDateTime,
    ) -> Boxed<'a, Transition> {
        Box::pin(OrderStore::finish_event(self, event, token, at))
    }
    fn release_event<'a>(
        &'a self,
        event: &'a EventRecord,
        token: &'a str,
        retry_after: Duration,
    ) -> Boxed<'a, ()> {
        Box::pin(OrderStore::release_event(self, event, token, retry_after))
    }
    fn prune(&self, before: OffsetDateTime, limit: usize) -> Boxed<'_, u64> {
        Box::pin(OrderStore::prune(self, before, limit))
    }
}

/// The service calls its store through these, with the contract's names.
#[cfg_attr(not(feature = "client"), allow(dead_code))]
impl AnyStore {
    pub(crate) async fn insert(&self, record: &Record) -> Result<(), StoreError> {
        self.0.insert(record).await
    }
    pub(crate) async fn change(&self, change: &Change<'_>) -> Result<Transition, StoreError> {
        self.0.change(change).await
    }
    pub(crate) async fn load(&self, order_id: &str) -> Result<Option<Record>, StoreError> {
        self.0.load(order_id).await
    }
    pub(crate) async fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Record>, StoreError> {
        self.0
            .due_for_check(now, stale_before, expired_since, limit)
            .await
    }
    pub(crate) async fn check_again_at(
        &self,
        order_id: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.0.check_again_at(order_id, at).await
    }
    pub(crate) async fn recent(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.0.recent(limit).await
    }
    pub(crate) async fn needing_attention(&self, limit: usize) -> Result<Vec<Record>, StoreError> {
        self.0.needing_attention(limit).await
    }
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) async fn tally(&self) -> Result<Tally, StoreError> {
        self.0.tally().await
    }
    pub(crate) async fn claim(&self, claim: &Claim<'_>) -> Result<Vec<Record>, StoreError> {
        self.0.claim(claim).await
    }
    pub(crate) async fn mark_fulfilled(
        &self,
        order_id: &str,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        self.0.mark_fulfilled(order_id, token, at).await
    }
    pub(crate) async fn release_claim(
        &self,
        order_id: &str,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        self.0.release_claim(order_id, token, retry_after).await
    }
    pub(crate) async fn claim_event(
        &self,
        claim: &EventClaim<'_>,
    ) -> Result<Option<EventRecord>, StoreError> {
        self.0.claim_event(claim).await
    }
    pub(crate) async fn finish_event(
        &self,
        event: &EventRecord,
        token: &str,
        at: OffsetDateTime,
    ) -> Result<Transition, StoreError> {
        self.0.finish_event(event, token, at).await
    }
    pub(crate) async fn release_event(
        &self,
        event: &EventRecord,
        token: &str,
        retry_after: Duration,
    ) -> Result<(), StoreError> {
        self.0.release_event(event, token, retry_after).await
    }
    pub(crate) async fn prune(
        &self,
        before: OffsetDateTime,
        limit: usize,
    ) -> Result<u64, StoreError> {
        self.0.prune(before, limit).await
    }
}
