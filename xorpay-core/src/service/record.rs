//! The door between typed orders and the store's records: a new order as a record, a record
//! as a typed order, and each typed transition as the conditional [`Change`] that records it.
//! The store decides nothing; these say what each change expects of the row.

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::order::{Created, Expired, Order, Paid, Pending, State, StoredOrder};
use crate::request::XorPayOrder;
use crate::store::{
    AoidCondition, Change, OrderStore, Record, RecordState, StoreError, Transition,
};

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

/// Writes `change` and says whether it applied.
async fn apply<S: OrderStore>(store: &S, change: &Change<'_>) -> Result<Transition, StoreError> {
    Ok(match store.change(change).await? {
        Some(_) => Transition::Applied,
        None => Transition::NotApplied,
    })
}

/// A state change from one of `from` to the order's state, at its price and with its `aoid`
/// where it knows one.
async fn advance<O, T: State, S: OrderStore>(
    store: &S,
    order: &Order<O, T>,
    from: &[RecordState],
    to: RecordState,
    attention: bool,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let order_id = order.order_id();
    let data = order
        .data_json()
        .map_err(|error| corrupt(order_id, error))?;
    let aoid = order.known_aoid().map(|aoid| aoid.as_str());
    apply(
        store,
        &Change {
            order_id,
            from,
            price_fen: order.price().fen(),
            aoid: aoid.map_or(AoidCondition::Any, AoidCondition::UnknownOr),
            revision: None,
            to,
            new_aoid: aoid,
            new_revision: order.known_revision(),
            data: &data,
            submitted_at: order.known_submitted_at(),
            expired_at: order.known_expired_at(),
            attention,
            at: now,
        },
    )
    .await
}

/// XorPay accepted the order: `created` → `pending`.
pub(super) async fn mark_pending<O, S: OrderStore>(
    store: &S,
    order: &Order<O, Pending>,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let from = [RecordState::Created];
    advance(store, order, &from, RecordState::Pending, false, now).await
}

/// The order is paid: `created` (a submission whose answer was lost), `pending` or
/// `expired` (a late payment is still money received) → `paid`.
pub(super) async fn mark_paid<O, S: OrderStore>(
    store: &S,
    order: &Order<O, Paid>,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let from = [
        RecordState::Created,
        RecordState::Pending,
        RecordState::Expired,
    ];
    advance(
        store,
        order,
        &from,
        RecordState::Paid,
        attention(order),
        now,
    )
    .await
}

/// The order expired (or was given up): `created` or `pending` → `expired`.
pub(super) async fn mark_expired<O, S: OrderStore>(
    store: &S,
    order: &Order<O, Expired>,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let from = [RecordState::Created, RecordState::Pending];
    advance(store, order, &from, RecordState::Expired, false, now).await
}

/// Saves a paid order whose record changed (a refund begun or settled, its `aoid` learnt),
/// over a row still at exactly the revision the copy was read at; marks the copy saved.
pub(super) async fn update_paid<O, S: OrderStore>(
    store: &S,
    order: &mut Order<O, Paid>,
    now: OffsetDateTime,
) -> Result<Transition, StoreError> {
    let order_id = order.order_id();
    let data = order
        .data_json()
        .map_err(|error| corrupt(order_id, error))?;
    let aoid = order.aoid().map(|aoid| aoid.as_str());
    let transition = apply(
        store,
        &Change {
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
            at: now,
        },
    )
    .await?;
    if transition == Transition::Applied {
        order.saved();
    }
    Ok(transition)
}
