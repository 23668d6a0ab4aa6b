//! The sandbox's magic amounts through the service, as a merchant's own tests meet them: the
//! shop checks out and refunds as in production, and the price alone takes it down one of
//! XorPay's unhappy paths. Each test also checks that the same price is ordinary when the
//! magic amounts are off, so that a test cannot pass because the path is always taken.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay::{CheckoutError, RefundError};
use xorpay_sandbox::{DeliveryState, MagicAmount, NotificationKind, OrderState, Sandbox};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

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

/// How often the shop's hook ran.
#[derive(Clone, Default)]
struct Shipped(Arc<AtomicUsize>);

impl Hook<Tea> for Shipped {
    async fn on(&self, event: Event<'_, Tea>) -> Result<(), HookError> {
        let Event::Paid(_order) = event else {
            return Ok(());
        };
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

/// A sandbox (magic amounts on or off) and a shop whose notify route is the library's.
struct World {
    sandbox: Sandbox,
    payments: Payments<Tea>,
    clock: Clock,
    shipped: Shipped,
}

async fn start(magic: bool) -> World {
    let sandbox = Sandbox::builder()
        .aid("1000")
        .secret(SECRET)
        .retry_unit(Duration::from_millis(20))
        .magic_amounts(magic)
        .build()
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop = format!("http://{}", listener.local_addr().unwrap());
    let clock = Clock::manual(xorpay::time::OffsetDateTime::now_utc());
    let shipped = Shipped::default();
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url(format!("{shop}/xorpay/notify"))
        .store(SqliteStore::in_memory().unwrap())
        .base_url(sandbox.base_url())
        .timeout(Duration::from_secs(2))
        .clock(clock.clone())
        .hook(shipped.clone())
        .no_background()
        .build()
        .unwrap();
    let router = payments.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    World {
        sandbox,
        payments,
        clock,
        shipped,
    }
}

fn tea(id: &str, magic: MagicAmount) -> Tea {
    Tea {
        id: id.to_owned(),
        title: "乌龙茶".to_owned(),
        total: Price::from_fen(magic.fen()).unwrap(),
    }
}

impl World {
    /// Checks the order out; answers its aoid.
    async fn pending(&self, id: &str, magic: MagicAmount) -> String {
        match self.payments.checkout(tea(id, magic)).await.unwrap() {
            Checkout::Pending(pending) => pending.aoid().unwrap().to_string(),
            other => panic!("not pending: {other:?}"),
        }
    }

    /// Checks out, pays and waits until the shop has recorded it; answers the paid order.
    async fn paid(&self, id: &str, magic: MagicAmount) -> Order<Tea, Paid> {
        let aoid = self.pending(id, magic).await;
        self.sandbox.pay(&aoid).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(StoredOrder::Paid(paid)) = self.payments.order(id).await.unwrap() {
                return paid;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never recorded paid"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A reconciliation pass with every open order due.
    async fn reconcile(&self) -> xorpay::service::Reconciled<Tea> {
        self.clock.advance(xorpay::time::Duration::hours(3));
        self.payments.reconcile().await.unwrap()
    }
}

#[tokio::test]
async fn at_4_02_the_payment_becomes_fee_error_and_reconciliation_reports_it() {
    let world = start(true).await;
    let aoid = world.pending("fee-1", MagicAmount::FeeErrorOnPayment).await;
    let view = world.sandbox.pay(&aoid).await.unwrap();
    assert_eq!(view.state, OrderState::FeeError);
    assert_eq!(view.delivery, DeliveryState::HeldBack);
    let report = world.reconcile().await;
    assert_eq!(report.fee_error, ["fee-1"], "{report:?}");
    assert_eq!(world.shipped.0.load(Ordering::SeqCst), 0);

    let plain = start(false).await;
    let aoid = plain.pending("fee-1", MagicAmount::FeeErrorOnPayment).await;
    assert_eq!(
        plain.sandbox.pay(&aoid).await.unwrap().state,
        OrderState::Payed
    );
}

#[tokio::test]
async fn at_4_08_the_order_has_expired_at_once_and_reconciliation_closes_it() {
    let world = start(true).await;
    let aoid = world.pending("exp-1", MagicAmount::ExpiresAtOnce).await;
    assert_eq!(
        world.sandbox.order(&aoid).unwrap().state,
        OrderState::Expire
    );
    assert!(world.sandbox.pay(&aoid).await.is_err(), "it cannot be paid");
    let report = world.reconcile().await;
    assert_eq!(report.expired, 1, "{report:?}");
    assert!(matches!(
        world.payments.order("exp-1").await.unwrap(),
        Some(StoredOrder::Expired(_))
    ));

    let plain = start(false).await;
    let aoid = plain.pending("exp-1", MagicAmount::ExpiresAtOnce).await;
    assert_eq!(plain.sandbox.order(&aoid).unwrap().state, OrderState::New);
}

#[tokio::test]
async fn at_5_04_the_create_answer_is_lost_and_the_same_checkout_resumes_the_one_order() {
    let world = start(true).await;
    let first = world
        .payments
        .checkout(tea("lost-1", MagicAmount::CreateAnswerLost))
        .await;
    let resumed = match first {
        // The service asked XorPay at once and resumed the order it found.
        Ok(Checkout::Pending(pending)) => pending.aoid().unwrap().to_string(),
        Err(error @ CheckoutError::InDoubt(_)) => {
            assert!(error.is_safe_to_retry(), "{error}");
            // Checking the same order out again resumes it: the retry is answered.
            world.pending("lost-1", MagicAmount::CreateAnswerLost).await
        }
        other => panic!("{other:?}"),
    };
    let orders: Vec<_> = world
        .sandbox
        .orders()
        .into_iter()
        .filter(|order| order.order_id == "lost-1")
        .collect();
    assert_eq!(orders.len(), 1, "one order at XorPay");
    assert_eq!(orders[0].aoid, resumed);
    world.sandbox.pay(&resumed).await.unwrap();
    let paid = world.paid_after_pay("lost-1").await;
    assert_eq!(paid.order_id(), "lost-1");

    // Off, the same price is answered at once.
    let plain = start(false).await;
    assert!(matches!(
        plain
            .payments
            .checkout(tea("lost-1", MagicAmount::CreateAnswerLost))
            .await,
        Ok(Checkout::Pending(_))
    ));
}

impl World {
    async fn paid_after_pay(&self, id: &str) -> Order<Tea, Paid> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(StoredOrder::Paid(paid)) = self.payments.order(id).await.unwrap() {
                return paid;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never recorded paid"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn at_4_09_the_notification_comes_twice_and_the_order_is_paid_and_fulfilled_once() {
    let world = start(true).await;
    let paid = world.paid("twice-1", MagicAmount::NotifiedTwice).await;
    let aoid = paid.aoid().unwrap().to_string();
    let order = world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(20), |order| {
            order.deliveries.len() == 2
        })
        .await
        .unwrap();
    let kinds: Vec<_> = order
        .deliveries
        .iter()
        .map(|d| (d.kind, d.status))
        .collect();
    assert_eq!(
        kinds,
        [
            (NotificationKind::Genuine, Some(200)),
            (NotificationKind::Duplicate, Some(200))
        ]
    );
    let fulfilled = world.payments.run_hooks().await.unwrap();
    assert_eq!(fulfilled.done, 1, "{fulfilled:?}");
    assert_eq!(world.payments.run_hooks().await.unwrap().done, 0);
    assert_eq!(world.shipped.0.load(Ordering::SeqCst), 1);

    let plain = start(false).await;
    let paid = plain.paid("twice-1", MagicAmount::NotifiedTwice).await;
    let order = plain
        .sandbox
        .wait_for(
            &paid.aoid().unwrap().to_string(),
            Duration::from_secs(20),
            |order| order.delivery == DeliveryState::Acknowledged,
        )
        .await
        .unwrap();
    assert_eq!(order.deliveries.len(), 1);
}

#[tokio::test]
async fn at_4_03_a_refund_is_refused_and_nothing_is_refunded() {
    let world = start(true).await;
    let paid = world.paid("refuse-1", MagicAmount::RefundRefused).await;
    let aoid = paid.aoid().unwrap().to_string();
    world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(20), |o| {
            o.state == OrderState::Success
        })
        .await;
    let refused = world
        .payments
        .refund(&paid, Price::from_fen(100).unwrap(), "r-1")
        .await;
    assert!(
        matches!(refused, Err(RefundError::NotMade { .. })),
        "{refused:?}"
    );
    assert_eq!(world.sandbox.order(&aoid).unwrap().refunded_fen, 0);

    let plain = start(false).await;
    let paid = plain.paid("refuse-1", MagicAmount::RefundRefused).await;
    plain
        .sandbox
        .wait_for(
            &paid.aoid().unwrap().to_string(),
            Duration::from_secs(20),
            |o| o.state == OrderState::Success,
        )
        .await;
    let made = plain
        .payments
        .refund(&paid, Price::from_fen(100).unwrap(), "r-1")
        .await;
    assert!(made.is_ok(), "{made:?}");
}

#[tokio::test]
async fn at_5_02_a_refund_is_made_its_answer_lost_and_it_stays_in_doubt() {
    let world = start(true).await;
    let paid = world.paid("doubt-1", MagicAmount::RefundAnswerLost).await;
    let aoid = paid.aoid().unwrap().to_string();
    world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(20), |o| {
            o.state == OrderState::Success
        })
        .await;
    let outcome = world
        .payments
        .refund(&paid, Price::from_fen(100).unwrap(), "r-1")
        .await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "{outcome:?}"
    );
    assert_eq!(
        world.sandbox.order(&aoid).unwrap().refunded_fen,
        100,
        "XorPay made it"
    );
    let attention = world.payments.needing_attention(10).await.unwrap();
    assert_eq!(attention.len(), 1, "the refund in doubt needs a person");
}
