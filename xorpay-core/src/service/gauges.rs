//! The order book's gauges (feature `metrics`), read once per reconciliation pass through the
//! store's indexes, never on a scrape.

use time::OffsetDateTime;

use super::{Payments, ServiceOrder};
use crate::metrics::{self, Book};

impl<O: ServiceOrder> Payments<O> {
    /// Reads the counts and sets the gauges, at most once per `sweep_every` (a payment wakes
    /// a reconciliation pass at once, and a busy shop must not count its book on every
    /// payment); a failure is logged and counted, and the gauges keep their last values.
    /// Without feature `metrics`, reads nothing.
    pub(super) async fn read_gauges(&self) {
        if !cfg!(feature = "metrics") {
            return;
        }
        if !self.inner.gauges.ready() {
            return;
        }
        match self.book(self.now()).await {
            Ok(book) => metrics::book(self.inner.client.aid().as_str(), book),
            Err(error) => {
                metrics::gauges_failed();
                tracing::warn!(%error, "the order book's gauges could not be read");
            }
        }
    }

    async fn book(&self, now: OffsetDateTime) -> Result<Book, crate::store::StoreError> {
        let tally = self.inner.store.tally().await?;
        let age = tally
            .oldest_pending
            .map_or(0, |at| (now - at).whole_seconds().max(0));
        Ok(Book {
            pending: tally.pending,
            oldest_pending_age_secs: u64::try_from(age).unwrap_or(0),
            // A paid order is flagged for a refund in doubt or an unknown aoid, and a refund
            // needs the aoid; one refund at a time is in doubt.
            refunds_in_doubt: tally.paid_attention_with_aoid,
            attention: tally.attention,
        })
    }
}
