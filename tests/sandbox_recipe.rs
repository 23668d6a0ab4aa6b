//! Test your own shop against a local XorPay: the recipe of `xorpay-sandbox/README.md`, which
//! holds this file unchanged (`tests/readme.rs` checks it). Copy it into your shop's `tests/`
//! with `xorpay`, `xorpay-sandbox`, `axum`, `serde` and `tokio` as dev-dependencies.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use xorpay::RefundError;
use xorpay::order::RefundState;
use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay_sandbox::{FaultTimes, OrderState, Route, RouteFault, Sandbox};

/// The shop's order, as the shop already declares it.
#[derive(XorPayOrder, serde::Serialize, serde::Deserialize, Debug)]
#[xorpay(kind = native, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// The shop's fulfilment: here, a list of what was shipped.
#[derive(Clone, Default)]
struct Shipped(Arc<Mutex<Vec<String>>>);

impl Hook<Tea> for Shipped {
    async fn on(&self, event: Event<'_, Tea>) -> Result<(), HookError> {
        let Event::Paid(order) = event else {
            return Ok(());
        };
        let mut shipped = self.0.lock().map_err(|_| "poisoned")?;
        if !shipped.iter().any(|id| id == order.order_id()) {
            shipped.push(order.order_id().to_owned());
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_customer_pays_is_shipped_and_refunded_even_when_an_answer_is_lost() {
    // A local XorPay, in this process; its notification retries a thousand times faster.
    let sandbox = Sandbox::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .retry_unit(Duration::from_millis(60))
        .build()
        .start()
        .await
        .unwrap();

    // The shop, configured as in production but for XorPay's address; its notify route is
    // served on loopback, where the sandbox posts its notifications.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", listener.local_addr().unwrap());
    let shipped = Shipped::default();
    let clock = Clock::manual(xorpay::time::OffsetDateTime::now_utc());
    let payments: Payments<Tea> = Payments::builder()
        .aid(sandbox.aid())
        .secret(sandbox.secret())
        .notify_url(format!("{shop_url}/xorpay/notify"))
        .store(SqliteStore::in_memory().unwrap())
        .base_url(sandbox.base_url())
        .clock(clock.clone())
        .hook(shipped.clone())
        .sweep_every(Duration::from_millis(100))
        .build()
        .unwrap();
    let router = payments.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Check out: XorPay answers with the QR code the customer scans.
    let tea = Tea {
        id: "tea-1".into(),
        title: "乌龙茶".into(),
        total: "12.50".parse().unwrap(),
    };
    let Checkout::Pending(pending) = payments.checkout(tea).await.unwrap() else {
        panic!("a native order waits for its payer")
    };
    assert!(pending.qr().is_some());
    let aoid = pending.aoid().unwrap().to_string();

    // The customer pays; XorPay notifies the shop, which records the payment and ships.
    sandbox.pay(&aoid).await.unwrap();
    let paid = loop {
        if let Some(StoredOrder::Paid(paid)) = payments.order("tea-1").await.unwrap() {
            break paid;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    while shipped.0.lock().unwrap().is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*shipped.0.lock().unwrap(), ["tea-1"]);
    let view = sandbox
        .wait_for(&aoid, Duration::from_secs(10), |order| {
            order.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(view.price_fen, 1250);

    // A partial refund.
    let refund = payments
        .refund(&paid, "2.50".parse::<Price>().unwrap(), "refund-1")
        .await
        .unwrap();
    assert_eq!(refund.state(), RefundState::Made);
    assert_eq!(sandbox.order(&aoid).unwrap().refunded_fen, 250);

    // A fault: XorPay makes the next refund and its answer is lost. The shop cannot know
    // whether the money went back, so the refund stays in doubt, and no other is sent.
    sandbox.inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let outcome = payments
        .refund(&paid, "1.00".parse::<Price>().unwrap(), "refund-2")
        .await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "{outcome:?}"
    );
    let again = payments
        .refund(&paid, "1.00".parse::<Price>().unwrap(), "refund-3")
        .await;
    assert!(
        matches!(again, Err(RefundError::AnotherInDoubt { .. })),
        "{again:?}"
    );

    // A person reads XorPay's dashboard (here, the sandbox's books) and settles it.
    let made = sandbox.order(&aoid).unwrap().refunded_fen == 350;
    assert!(made, "the sandbox made the refund whose answer was lost");
    clock.advance(xorpay::time::Duration::minutes(10));
    let settled = payments
        .resolve_refund(&paid, "refund-2", made)
        .await
        .unwrap();
    assert_eq!(settled.state(), RefundState::Made);
    let Some(StoredOrder::Paid(paid)) = payments.order("tea-1").await.unwrap() else {
        panic!("still paid")
    };
    assert_eq!(paid.refunded(), "3.50".parse().ok());

    payments.shutdown().await;
    sandbox.shutdown().await;
}
