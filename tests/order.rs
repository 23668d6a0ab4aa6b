//! The typestate order without a network: its pure transitions (confirming with a verified
//! notification, expiring by the clock) and the way back from storage. A pending order comes
//! from storage here, as the service loads one. (The scenarios drive the same orders through
//! the service against the sandbox.)

use xorpay::order::{ConfirmError, ConfirmedBy, Expiry};
use xorpay::prelude::*;
use xorpay::request::RequestError;
use xorpay::time::{Duration, OffsetDateTime};
use xorpay::{Notification, PaymentMismatch, VerifiedNotification};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const AOID: &str = "e19c8c8673ba42419043fc92b99303c1";

#[derive(XorPayOrder, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/n")]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

fn coffee(id: &str, price: &str) -> Order<Coffee> {
    Order::new(Coffee {
        id: id.into(),
        name: "Latte".into(),
        price: price.parse().unwrap(),
    })
    .unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A pending order as the store keeps it: submitted now, for 600 seconds.
fn pending(id: &str, price: &str) -> Order<Coffee, Pending> {
    let format = &xorpay::time::format_description::well_known::Rfc3339;
    let now = now();
    let stored = serde_json::json!({
        "state": "pending",
        "order": { "id": id, "name": "Latte", "price": price },
        "data": {
            "aoid": AOID,
            "payment": { "qr": "weixin://wxpay/bizpayurl?pr=abc1234" },
            "submitted_at": now.format(format).unwrap(),
            "expires_at": (now + Duration::seconds(600)).format(format).unwrap(),
        },
    });
    match serde_json::from_value(stored).unwrap() {
        StoredOrder::Pending(pending) => pending,
        other => panic!("expected pending, read {}", other.state_name()),
    }
}

/// A genuine notification, as XorPay would sign it (by the test kit's MD5 oracle).
fn notification(aoid: &str, order_id: &str, pay_price: &str) -> VerifiedNotification {
    let body = xorpay_testkit::Notification {
        detail: r#"{"transaction_id":"4200001","bank_type":"OTHERS"}"#,
        ..xorpay_testkit::Notification::new(aoid, order_id, pay_price)
    }
    .body(SECRET);
    Notification::parse(body.as_bytes())
        .unwrap()
        .verify(&AppSecret::new(SECRET).unwrap())
        .unwrap()
}

fn paid(price: &str) -> Order<Coffee, Paid> {
    pending("o-1", price)
        .confirm(notification(AOID, "o-1", price))
        .unwrap()
}

#[test]
fn an_order_xorpay_would_refuse_is_refused_at_creation() {
    let empty = Coffee {
        id: String::new(),
        name: "Latte".into(),
        price: Price::MIN,
    };
    assert_eq!(
        Order::new(empty).map(drop),
        Err(RequestError::EmptyValue { field: "order_id" })
    );
}

#[test]
fn a_confirmed_order_knows_its_payment() {
    let paid = paid("12.30");
    assert_eq!(paid.aoid().unwrap().as_str(), AOID);
    assert_eq!(paid.paid_price(), "12.30".parse().unwrap());
    assert_eq!(paid.transaction_id(), Some("4200001"));
    assert_eq!(paid.confirmed_by(), ConfirmedBy::Notification);
    assert_eq!(paid.pay_time().unwrap().unix_timestamp(), 1_795_784_639);
    assert_eq!(paid.refundable(), Some("12.30".parse().unwrap()));
}

#[test]
fn a_mismatched_notification_hands_the_order_back() {
    let cases = [
        (
            notification("0f2b0a6c9e3d4b1a8c7e6d5f4a3b2c1d", "o-1", "1.00"),
            PaymentMismatch::Aoid,
        ),
        (notification(AOID, "o-2", "1.00"), PaymentMismatch::OrderId),
    ];
    for (notification, mismatch) in cases {
        let rejected = pending("o-1", "1.00").confirm(notification).unwrap_err();
        assert_eq!(rejected.reason(), &ConfirmError::Mismatch(mismatch));
        assert_eq!(rejected.into_order().order_id(), "o-1");
    }
    let cheaper = pending("o-1", "1.00")
        .confirm(notification(AOID, "o-1", "0.99"))
        .unwrap_err();
    assert!(matches!(
        cheaper.reason(),
        ConfirmError::Mismatch(PaymentMismatch::Amount { .. })
    ));
}

#[test]
fn a_paid_order_has_everything_left_to_refund() {
    let order = paid("1.00");
    assert_eq!(order.refundable(), Some("1.00".parse().unwrap()));
    assert_eq!(order.refunded(), None);
    assert_eq!(order.refund_count(), 0);
    assert_eq!(order.refund_in_doubt(), None);
}

#[test]
fn a_payment_after_local_expiry_is_still_confirmed() {
    let late = match pending("o-1", "1.00").expire(now() + Duration::hours(3)) {
        Expiry::Expired(expired) => expired,
        Expiry::NotYet(_) => panic!("not expired after three hours"),
    };
    let paid = late.confirm(notification(AOID, "o-1", "1.00")).unwrap();
    assert_eq!(paid.paid_price(), Price::from_fen(100).unwrap());
}

#[test]
fn a_notification_re_cut_at_a_field_boundary_is_refused() {
    // The genuine notification of order "o-1", with one character moved from the aoid into
    // the order id: the same signed bytes, so it verifies, as order "1o-1".
    let recut = notification(&AOID[..31], &format!("{}o-1", &AOID[31..]), "1.00");
    assert_eq!(recut.order_id(), "1o-1");
    let rejected = pending("1o-1", "1.00").confirm(recut).unwrap_err();
    assert_eq!(
        rejected.reason(),
        &ConfirmError::Mismatch(PaymentMismatch::Aoid)
    );
}

#[test]
fn a_pending_order_expires_only_once_its_time_has_come() {
    let order = pending("o-1", "1.00");
    assert_eq!(
        (order.expires_at() - order.submitted_at()).whole_seconds(),
        600
    );
    let early = order_time(&order, 599);
    let Expiry::NotYet(order) = order.expire(early) else {
        panic!("expired a second early")
    };
    let at = order_time(&order, 600);
    let Expiry::Expired(expired) = order.expire(at) else {
        panic!("not expired on time")
    };
    assert_eq!(expired.expired_at(), at);
    assert_eq!(expired.aoid().map(|aoid| aoid.as_str()), Some(AOID));
}

fn order_time(order: &Order<Coffee, Pending>, seconds: i64) -> OffsetDateTime {
    order.submitted_at() + Duration::seconds(seconds)
}

#[test]
fn every_state_round_trips_through_storage() {
    let created = coffee("o-1", "1.00");
    let states = [
        serde_json::to_value(&created).unwrap(),
        serde_json::to_value(pending("o-1", "1.00")).unwrap(),
        serde_json::to_value(paid("1.00")).unwrap(),
        match pending("o-1", "1.00").expire(now() + Duration::hours(1)) {
            Expiry::Expired(expired) => serde_json::to_value(expired).unwrap(),
            Expiry::NotYet(_) => panic!("not expired after an hour"),
        },
    ];
    let names: Vec<&str> = states
        .iter()
        .map(|state| {
            let stored: StoredOrder<Coffee> = serde_json::from_value(state.clone()).unwrap();
            assert_eq!(serde_json::to_value(&stored).unwrap(), *state);
            stored.state_name()
        })
        .collect();
    assert_eq!(names, ["created", "pending", "paid", "expired"]);
}

#[test]
fn storage_cannot_smuggle_an_order_into_another_state_or_amount() {
    let saved = serde_json::to_value(paid("1.00")).unwrap();

    // The struct's price and the recorded payment must agree.
    let mut cheaper = saved.clone();
    cheaper["order"]["price"] = serde_json::json!("0.01");
    assert!(serde_json::from_value::<StoredOrder<Coffee>>(cheaper).is_err());

    // A created order claiming payment data, or an unknown state, is refused.
    let mut relabelled = saved.clone();
    relabelled["state"] = serde_json::json!("created");
    assert!(serde_json::from_value::<StoredOrder<Coffee>>(relabelled).is_err());
    let mut unknown = saved.clone();
    unknown["state"] = serde_json::json!("shipped");
    assert!(serde_json::from_value::<StoredOrder<Coffee>>(unknown).is_err());

    // A struct XorPay would refuse is refused on the way back too.
    let mut empty = saved;
    empty["order"]["name"] = serde_json::json!("");
    assert!(serde_json::from_value::<StoredOrder<Coffee>>(empty).is_err());
}
