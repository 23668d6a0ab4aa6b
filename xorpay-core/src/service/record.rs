//! The door between typed orders and the store's records: a new order as a record, a record
//! as a typed order, and each typed transition as the conditional [`Change`] that records it.
//! The store decides nothing; these say what each change expects of the row.

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::notices::{Notice, Tell};
use crate::metrics;
use crate::order::{Created, Expired, Order, Paid, Pending, State, StoredOrder};
use crate::price::Price;
use crate::request::XorPayOrder;
use crate::store::{AnyStore, AoidCondition, Change, Record, RecordState, StoreError, Transition};

fn corrupt(order_id: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        order_id: order_id.to_owned(),
        reason: reason.to_string(),
    }
}

fn json<T: Serialize>(order_id: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| corrupt(order_id, error))
}

/// A new order, as the record stored before it is sent to XorPay.
pub(super) fn new_record<O: Serialize>(
    order: &Order<O, Created>,
    now: OffsetDateTime,
) -> Result<Record, StoreError> {
    let order_id = order.order_id();
    Ok(Record {
        order_id: order_id.to_owned(),
        state: RecordState::Created,
        aoid: None,
        price_fen: order.price().fen(),
        revision: 0,
        order: json(order_id, order.inner())?,
        data: order
            .data_json()
            .map_err(|error| corrupt(order_id, error))?,
        created_at: now,
        submitted_at: None,
        expired_at: None,
        fulfilled_at: None,
        attention: false,
    })
}

/// The typed order a record holds, checked against the record's own columns.
pub(super) fn typed<O>(record: &Record) -> Result<StoredOrder<O>, StoreError>
where
    O: XorPayOrder + DeserializeOwned,
{
    let order = StoredOrder::<O>::from_json(record.state.as_str(), &record.order, &record.data)
        .map_err(|reason| corrupt(&record.order_id, reason))?;
    let (price, aoid) = match &order {
        StoredOrder::Created(order) => (order.price(), order.known_aoid()),
        StoredOrder::Pending(order) => (order.price(), order.known_aoid()),
        StoredOrder::Paid(order) => (order.price(), order.known_aoid()),
        StoredOrder::Expired(order) => (order.price(), order.known_aoid()),
    };
    if order.order_id() != record.order_id
        || price.fen() != record.price_fen
        || aoid.map(|aoid| aoid.as_str()) != record.aoid.as_deref()
    {
        return Err(corrupt(
            &record.order_id,
            "the stored struct disagrees with the row's order number, price or aoid",
        ));
    }
    Ok(order)
}

/// Whether a person must act on a paid order: a refund in doubt, or an `aoid` only XorPay's
/// dashboard can tell.
fn attention<O>(order: &Order<O, Paid>) -> bool {
    order.refund_in_doubt().is_some() || order.aoid().is_none()
}

/// The store as the service writes to it: with what its hook is told of, if it has one.
#[derive(Clone, Copy)]
pub(super) struct Ledger<'a> {
    pub(super) store: &'a AnyStore,
    /// When the hook is told of each notice.
    pub(super) tell: Tell,
}

impl Ledger<'_> {
    /// `change` with the events for `notices`, applied.
    async fn change(
        &self,
        mut change: Change<'_>,
        notices: &[Notice<'_>],
    ) -> Result<Transition, StoreError> {
        let owned = self.tell.events(notices, change.at);
        let events: Vec<_> = owned.iter().map(|event| event.row()).collect();
        change.events = &events;
        self.store.change(&change).await
    }
}

/// A state change from `from`, the state the copy was read in, to the order's state, at its
/// price and its `aoid`: the one it knows, or none. A row another writer moved on since (to
/// another state, or to a named `aoid`) is left alone; the caller reads it again.
async fn advance<O, T: State>(
    ledger: Ledger<'_>,
    order: &Order<O, T>,
    (from, to): (RecordState, RecordState),
    attention: bool,
    notices: &[Notice<'_>],
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let order_id = order.order_id();
    let data = order
        .data_json()
        .map_err(|error| corrupt(order_id, error))?;
    let aoid = order.known_aoid().map(|aoid| aoid.as_str());
    let transition = ledger
        .change(
            Change {
                order_id,
                from: &[from],
                price_fen: order.price().fen(),
                aoid: aoid.map_or(AoidCondition::Unknown, AoidCondition::UnknownOr),
                revision: None,
                to,
                new_aoid: aoid,
                new_revision: order.known_revision(),
                data: &data,
                submitted_at: order.known_submitted_at(),
                expired_at: order.known_expired_at(),
                attention,
                events: &[],
                at: now,
            },
            notices,
        )
        .await?;
    if transition == Transition::Applied {
        metrics::transition(from.as_str(), to.as_str());
    }
    Ok(transition)
}

/// XorPay accepted the order: `created` → `pending`.
pub(super) async fn mark_pending<O>(
    ledger: Ledger<'_>,
    order: &Order<O, Pending>,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let states = (RecordState::Created, RecordState::Pending);
    advance(ledger, order, states, false, &[], now).await
}

/// The order is paid: from `created` (a submission whose answer was lost), `pending` or
/// `expired` (a late payment is still money received), whichever the copy was read in.
pub(super) async fn mark_paid<O>(
    ledger: Ledger<'_>,
    order: &Order<O, Paid>,
    from: RecordState,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let attention = attention(order);
    // Paid by a query's answer: its notification should name the aoid; if none does, a
    // person must read it on the dashboard.
    let notices: &[Notice<'_>] = match order.aoid() {
        None => &[Notice::AoidUnknown],
        Some(_) => &[],
    };
    let states = (from, RecordState::Paid);
    advance(ledger, order, states, attention, notices, now).await
}

/// The order expired (or was given up): from `created` or `pending`, whichever the copy was
/// read in.
pub(super) async fn mark_expired<O>(
    ledger: Ledger<'_>,
    order: &Order<O, Expired>,
    from: RecordState,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let at = order.known_expired_at().unwrap_or(now);
    let states = (from, RecordState::Expired);
    advance(ledger, order, states, false, &[Notice::Expired { at }], now).await
}

/// Flags an order for a person (XorPay said `fee_error`: paid, its fee not taken), leaving
/// all else as read; a row changed since is left alone.
pub(super) async fn flag_attention(
    ledger: Ledger<'_>,
    record: &Record,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let change = Change {
        order_id: &record.order_id,
        from: &[record.state],
        price_fen: record.price_fen,
        aoid: AoidCondition::Any,
        revision: Some(record.revision),
        to: record.state,
        new_aoid: None,
        new_revision: record.revision,
        data: &record.data,
        submitted_at: None,
        expired_at: None,
        attention: true,
        events: &[],
        at: now,
    };
    ledger.change(change, &[Notice::FeeError]).await
}

/// Saves a paid order whose record changed (a refund begun or settled, its `aoid` learnt),
/// with what the hook is to be told of it, over a row still at exactly the revision the copy
/// was read at; marks the copy saved.
pub(super) async fn update_paid<O>(
    ledger: Ledger<'_>,
    order: &mut Order<O, Paid>,
    notices: &[Notice<'_>],
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let order_id = order.order_id();
    let data = order
        .data_json()
        .map_err(|error| corrupt(order_id, error))?;
    let aoid = order.aoid().map(|aoid| aoid.as_str());
    let transition = ledger
        .change(
            Change {
                order_id,
                from: &[RecordState::Paid],
                price_fen: order.price().fen(),
                aoid: aoid.map_or(AoidCondition::Any, AoidCondition::UnknownOr),
                revision: Some(order.loaded_revision()),
                to: RecordState::Paid,
                new_aoid: aoid,
                new_revision: order.revision(),
                data: &data,
                submitted_at: None,
                expired_at: None,
                attention: attention(order),
                events: &[],
                at: now,
            },
            notices,
        )
        .await?;
    if transition == Transition::Applied {
        order.saved();
    }
    Ok(transition)
}

/// The one INFO line of a recorded payment.
pub(super) fn recorded(order_id: &str, aoid: Option<&str>, amount: Price) {
    tracing::info!(
        order_id,
        aoid = aoid.unwrap_or("unknown until its notification"),
        %amount,
        "payment recorded"
    );
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::__private::Visit;
    use crate::order::Settled;
    use crate::price::Price;
    use crate::request::{OwnNotifyUrl, ValueSource};
    use crate::response::{Aoid, PaymentInfo};
    use crate::status::OrderState;
    use crate::store::{AnyStore, SqliteStore};

    /// A hand-written order type: the derive lives in another crate.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Tea(Price);

    impl XorPayOrder for Tea {
        type NotifyUrl = OwnNotifyUrl;

        fn kind(&self) -> crate::RequestKind {
            crate::RequestKind::Native
        }

        fn __xorpay_visit<V: Visit>(&self, visitor: &mut V) {
            visitor.signed_str("name", ValueSource::Field("name"), "Tea");
            visitor.signed_str("pay_type", ValueSource::Kind, "native");
            visitor.signed_price(ValueSource::Field("price"), self.0);
            visitor.signed_str("order_id", ValueSource::Field("id"), "t-1");
            visitor.signed_str(
                "notify_url",
                ValueSource::Attribute,
                "https://shop.example/n",
            );
        }
    }

    /// Two writers, one row: a submission in doubt is read as created by reconciliation,
    /// which asks XorPay (paid, says `query2`, naming no `aoid`), while a repeated checkout
    /// re-sends it and records it pending with its `aoid`. The stale copy's write must not
    /// apply: applied, it would leave a row whose struct says "no aoid" beside a column that
    /// names one, which nobody could read again.
    #[tokio::test]
    async fn a_copy_read_before_another_writer_moved_the_row_is_not_written() {
        let store = AnyStore::new(SqliteStore::in_memory().unwrap());
        let now = OffsetDateTime::UNIX_EPOCH;
        let price = Price::from_fen(100).unwrap();
        let created = Order::new(Tea(price)).unwrap();
        store
            .insert(&new_record(&created, now).unwrap())
            .await
            .unwrap();

        // The repeated checkout: XorPay's answer names the aoid.
        let aoid = Aoid::new("e19c8c8673ba42419043fc92b99303c1").unwrap();
        let qr = PaymentInfo::Qr("weixin://wxpay/bizpayurl?pr=abc".into());
        let pending = Order::new(Tea(price)).unwrap().accepted(aoid, qr, 600, now);
        let ledger = Ledger {
            store: &store,
            tell: Tell {
                expired_grace: core::time::Duration::from_secs(24 * 3600),
                resolve_after: core::time::Duration::from_secs(300),
            },
        };
        let moved = mark_pending(ledger, &pending, now).await.unwrap();
        assert_eq!(moved, Transition::Applied);

        // Reconciliation's copy, read as created before that, settles paid by the query.
        let query = crate::order::QueryAnswer::for_order_id("t-1".into(), OrderState::Payed);
        let Ok(Settled::Paid(paid)) = created.settle(&query, now) else {
            panic!("expected paid")
        };
        let stale = mark_paid(ledger, &paid, RecordState::Created, now)
            .await
            .unwrap();
        assert_eq!(stale, Transition::NotApplied);
        let record = store.load("t-1").await.unwrap().unwrap();
        let Ok(StoredOrder::Pending(order)) = typed::<Tea>(&record) else {
            panic!("expected the row pending and readable: {record:?}")
        };
        assert!(order.aoid().is_some());

        // Read again, the same answer applies from where the row now is.
        let query = crate::order::QueryAnswer::for_order_id("t-1".into(), OrderState::Payed);
        let Ok(Settled::Paid(paid)) = order.settle(&query) else {
            panic!("expected paid")
        };
        let fresh = mark_paid(ledger, &paid, RecordState::Pending, now)
            .await
            .unwrap();
        assert_eq!(fresh, Transition::Applied);
        let record = store.load("t-1").await.unwrap().unwrap();
        assert!(matches!(typed::<Tea>(&record), Ok(StoredOrder::Paid(_))));
    }
}
