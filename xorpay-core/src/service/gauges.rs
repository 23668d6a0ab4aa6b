//! The order book's gauges (feature `metrics`), read once per reconciliation pass through the
//! store's indexes, never on a scrape.

use time::OffsetDateTime;

use super::record;
use super::{Payments, ServiceOrder};
use crate::metrics::{self, Book};
use crate::order::StoredOrder;

/// The most orders needing attention read to count their refunds in doubt.
const ATTENTION_READ: usize = 10_000;

impl<O: ServiceOrder> Payments<O> {
    /// Reads the counts and sets the gauges; a failure is logged and the gauges keep their
    /// last values. Without feature `metrics`, reads nothing.
    pub(super) async fn read_gauges(&self, now: OffsetDateTime) {
        if !cfg!(feature = "metrics") {
            return;
        }
        match self.book(now).await {
            Ok(book) => metrics::book(self.inner.client.aid().as_str(), book),
            Err(error) => tracing::warn!(%error, "the order book's gauges could not be read"),
        }
    }

    async fn book(&self, now: OffsetDateTime) -> Result<Book, crate::store::StoreError> {
        let store = &self.inner.store;
        let tally = store.tally().await?;
        // Refunds in doubt are inside the paid orders' records; those orders are all among
        // the (few) orders needing attention.
        let mut refunds_in_doubt = 0;
        if tally.attention > 0 {
            for record in store.needing_attention(ATTENTION_READ).await? {
                if let Ok(StoredOrder::Paid(order)) = record::typed::<O>(&record)
                    && order.refund_in_doubt().is_some()
                {
                    refunds_in_doubt += 1;
                }
            }
        }
        let age = tally
            .oldest_pending
            .map_or(0, |at| (now - at).whole_seconds().max(0));
        Ok(Book {
            pending: tally.pending,
            oldest_pending_age_secs: u64::try_from(age).unwrap_or(0),
            refunds_in_doubt,
            attention: tally.attention,
        })
    }
}
