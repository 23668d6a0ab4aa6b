//! "XorPay did it, but the answer was lost": each lost-answer fault of the sandbox (creating
//! an order, charging a barcode, refunding), driven through the client and the store as a
//! merchant's code meets it. After each, the store and the sandbox agree on the order's state
//! and amounts; a refund in doubt counts until it is resolved from XorPay's books (here the
//! sandbox's ledger, as a merchant would read the dashboard).

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::receiver::Receiver;
use support::{SECRET, tempdir};
use xorpay::client::{Client, ClientError};
use xorpay::order::{Order, StoredOrder};
use xorpay::prelude::*;
use xorpay::store::{
    Confirmed, OrderStore, ReconcilePolicy, RefundOutcome, SqliteStore, Submission,
    confirm_notification_with, reconcile, refund, resolve, settle_submission,
};
use xorpay::time::OffsetDateTime;
use xorpay::{Aid, AppSecret, Price};
use xorpay_sandbox::{FaultTimes, OrderState, Route, RouteFault, Sandbox};

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = wechat_barcode, notify_url = from_client)]
struct Till {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(barcode)]
    code: String,
}

struct World<O> {
    sandbox: Sandbox,
    receiver: Receiver,
    client: Client,
    store: SqliteStore<O>,
    _dir: tempdir::Dir,
}

async fn world<O>() -> World<O> {
    let sandbox = Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap();
    let receiver = Receiver::start().await;
    let client = Client::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new(SECRET).unwrap())
        .notify_url(&receiver.url)
        .base_url(sandbox.base_url())
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let dir = tempdir::Dir::new("lost");
    let store = SqliteStore::open(dir.path().join("orders.sqlite")).unwrap();
    World {
        sandbox,
        receiver,
        client,
        store,
        _dir: dir,
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The store and the sandbox agree on the order: its state, the `aoid` when the store knows
/// it, the amount paid and the amount refunded (a refund in doubt is not yet either).
async fn agree<O>(world: &World<O>, order_id: &str)
where
    SqliteStore<O>: OrderStore<O>,
    O: std::fmt::Debug,
{
    let xorpay = world
        .sandbox
        .order_by_order_id(order_id)
        .expect("xorpay has the order");
    let stored = world.store.load(order_id).await.unwrap().expect("stored");
    let (state, aoid) = match &stored {
        StoredOrder::Created(_) => ("created", None),
        StoredOrder::Pending(order) => ("pending", order.aoid()),
        StoredOrder::Paid(order) => ("paid", order.aoid()),
        StoredOrder::Expired(order) => ("expired", order.aoid()),
    };
    let expected = match xorpay.state {
        OrderState::New => "pending",
        OrderState::Payed | OrderState::Success => "paid",
        OrderState::Expire => "expired",
        other => panic!("unexpected state {other:?}"),
    };
    assert_eq!(
        state, expected,
        "{order_id}: store {stored:?}, xorpay {xorpay:?}"
    );
    if let Some(aoid) = aoid {
        assert_eq!(aoid.as_str(), xorpay.aoid);
    }
    if let StoredOrder::Paid(paid) = &stored {
        assert_eq!(paid.paid_price().fen(), xorpay.price_fen);
        assert_eq!(
            paid.refunded().map_or(0, Price::fen),
            xorpay.refunded_fen,
            "{order_id}: refunded"
        );
        assert_eq!(paid.refund_count() as usize, xorpay.refunds.len());
    }
}

#[tokio::test]
async fn a_created_order_whose_answer_was_lost_is_recovered_and_paid_once() {
    // Lost after XorPay created it, answered too late, or dropped before XorPay did anything:
    // the client cannot tell these apart, and settling must handle each.
    for fault in [
        RouteFault::AnswerLost,
        RouteFault::answer_late(Duration::from_millis(1500)),
        RouteFault::DropConnection,
    ] {
        let mut world = world::<Tea>().await;
        let id = format!("tea-{fault:?}").replace([' ', '{', '}', ':'], "");
        let created = Order::new(Tea {
            id: id.clone(),
            title: "乌龙茶".into(),
            total: price("12.50"),
        })
        .unwrap();
        world.store.insert(&created).await.unwrap();
        world
            .sandbox
            .inject_route_fault(Route::Pay, fault, FaultTimes::Once);
        let failed = world.client.submit(created).await.unwrap_err();
        assert!(failed.error().outcome_unknown(), "{:?}", failed.error());
        assert!(matches!(
            failed.error(),
            ClientError::Connection { .. } | ClientError::Timeout { .. }
        ));
        let created_at_xorpay = world.sandbox.order_by_order_id(&id).is_some();
        assert_eq!(created_at_xorpay, fault != RouteFault::DropConnection);

        let Submission::Pending(pending) =
            settle_submission(&world.store, &world.client, failed.into_order(), now())
                .await
                .unwrap()
        else {
            panic!("the submission was not recovered")
        };
        assert!(pending.qr().is_some());
        agree(&world, &id).await;
        // Still one order at XorPay: the re-submission found the first.
        assert_eq!(world.sandbox.orders().len(), 1);

        world
            .sandbox
            .pay(pending.aoid().unwrap().as_str())
            .await
            .unwrap();
        let notification = world.receiver.next_verified(SECRET).await;
        let confirmed = confirm_notification_with(&world.store, &world.client, notification)
            .await
            .unwrap();
        assert!(confirmed.is_new());
        agree(&world, &id).await;
    }
}

#[tokio::test]
async fn a_charged_barcode_whose_answer_was_lost_is_recorded_and_learns_its_aoid() {
    let mut world = world::<Till>().await;
    let created = Order::new(Till {
        id: "till-1".into(),
        title: "门店订单".into(),
        total: price("8.80"),
        code: "134657556554411111".into(),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    let failed = world.client.barcode_pay(created).await.unwrap_err();
    assert!(failed.error().outcome_unknown());

    // query2 says paid: recorded paid, without the aoid a query cannot tell.
    let Submission::Paid(paid) =
        settle_submission(&world.store, &world.client, failed.into_order(), now())
            .await
            .unwrap()
    else {
        panic!("the charge was not recorded")
    };
    assert_eq!(paid.aoid(), None);
    agree(&world, "till-1").await;

    // The notification names the aoid; the order learns it, and is not paid twice.
    let notification = world.receiver.next_verified(SECRET).await;
    let confirmed = confirm_notification_with(&world.store, &world.client, notification)
        .await
        .unwrap();
    assert!(matches!(confirmed, Confirmed::AlreadyPaid(..)));
    let aoid = confirmed.order().aoid().unwrap().to_string();
    assert_eq!(
        aoid,
        world.sandbox.order_by_order_id("till-1").unwrap().aoid
    );
    agree(&world, "till-1").await;
}

#[tokio::test]
async fn a_waiting_barcode_whose_answer_was_lost_is_never_sent_twice() {
    let mut world = world::<Till>().await;
    // A code ending in 0000 waits for the payer's password.
    let created = Order::new(Till {
        id: "till-2".into(),
        title: "门店订单".into(),
        total: price("300.00"),
        code: "134657556554410000".into(),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    let failed = world.client.barcode_pay(created).await.unwrap_err();
    let settled = settle_submission(&world.store, &world.client, failed.into_order(), now())
        .await
        .unwrap();
    assert!(matches!(settled, Submission::InDoubt), "{settled:?}");
    assert_eq!(world.sandbox.orders().len(), 1);

    // The payer confirms; the notification pays the order still stored as created.
    let aoid = world.sandbox.order_by_order_id("till-2").unwrap().aoid;
    world.sandbox.pay(&aoid).await.unwrap();
    let notification = world.receiver.next_verified(SECRET).await;
    let confirmed = confirm_notification_with(&world.store, &world.client, notification)
        .await
        .unwrap();
    assert!(confirmed.is_new());
    agree(&world, "till-2").await;
}

#[tokio::test]
async fn a_refund_whose_answer_was_lost_stays_in_doubt_until_resolved_from_the_ledger() {
    let mut world = world::<Tea>().await;
    let created = Order::new(Tea {
        id: "refund-1".into(),
        title: "乌龙茶".into(),
        total: price("20.00"),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    let pending = world.client.submit(created).await.unwrap();
    let _ = world.store.mark_pending(&pending).await.unwrap();
    let aoid = pending.aoid().unwrap().to_string();
    world.sandbox.pay(&aoid).await.unwrap();
    let notification = world.receiver.next_verified(SECRET).await;
    let _ = confirm_notification_with(&world.store, &world.client, notification)
        .await
        .unwrap();
    world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(5), |o| {
            o.state == OrderState::Success
        })
        .await;

    // Three refunds whose answers fail three ways: lost after the refund was made, late
    // after it was made, and dropped before XorPay did anything.
    let cases = [
        (RouteFault::AnswerLost, "1.00"),
        (RouteFault::answer_late(Duration::from_millis(1500)), "2.00"),
        (RouteFault::DropConnection, "4.00"),
    ];
    for (fault, amount) in cases {
        world
            .sandbox
            .inject_route_fault(Route::Refund, fault, FaultTimes::Once);
        let outcome = refund(
            &world.store,
            &world.client,
            "refund-1",
            price(amount),
            now(),
        )
        .await
        .unwrap();
        let RefundOutcome::InDoubt(error) = outcome else {
            panic!("{fault:?}: expected the refund in doubt, got {outcome:?}")
        };
        assert!(error.outcome_unknown(), "{error:?}");
        // In doubt: counted against what is left, and nothing more can be sent.
        let Some(StoredOrder::Paid(paid)) = world.store.load("refund-1").await.unwrap() else {
            panic!("expected the order paid")
        };
        assert_eq!(paid.refund_in_doubt(), Some(price(amount)));
        assert!(paid.check_refund(Price::MIN).is_err());
        tokio::time::sleep(Duration::from_millis(1600)).await;

        // The merchant reads XorPay's books and resolves it, once no request can still be
        // under way.
        let ledger = world.sandbox.order(&aoid).unwrap();
        let made = ledger
            .refunds
            .iter()
            .any(|refund| refund.fen == price(amount).fen());
        assert_eq!(
            made,
            !matches!(fault, RouteFault::DropConnection),
            "{fault:?}"
        );
        let began = paid.refund_in_doubt_since().unwrap();
        let after = began + xorpay::time::Duration::minutes(1);
        resolve(&world.store, &world.client, "refund-1", began, made, after)
            .await
            .unwrap();
        agree(&world, "refund-1").await;
    }
    let Some(StoredOrder::Paid(paid)) = world.store.load("refund-1").await.unwrap() else {
        panic!("expected the order paid")
    };
    assert_eq!(paid.refunded(), Some(price("3.00")));
    assert_eq!(paid.refundable(), Some(price("17.00")));
}

#[tokio::test]
async fn a_submission_xorpay_refuses_for_good_is_given_up_not_retried_forever() {
    let world = world::<Tea>().await;
    // XorPay already holds this order number with other parameters (another process, an
    // earlier version of the shop): the identical re-submission gets `order_exist`.
    let other = Order::new(Tea {
        id: "taken-1".into(),
        title: "另一个 Another".into(),
        total: price("1.00"),
    })
    .unwrap();
    let other = world.client.submit(other).await.unwrap();
    let created = Order::new(Tea {
        id: "taken-1".into(),
        title: "乌龙茶".into(),
        total: price("12.50"),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();

    let settled = settle_submission(&world.store, &world.client, created, now())
        .await
        .unwrap();
    assert!(matches!(settled, Submission::Expired), "{settled:?}");
    let Some(StoredOrder::Expired(expired)) = world.store.load("taken-1").await.unwrap() else {
        panic!("expected the order given up")
    };
    assert_eq!(expired.aoid(), None);

    // The other order with this number is paid. query2 says `payed`, but about XorPay's
    // order, not this one: reconciliation must not record 12.50 paid.
    world
        .sandbox
        .pay(other.aoid().unwrap().as_str())
        .await
        .unwrap();
    let report = reconcile(
        &world.store,
        &world.client,
        now() + xorpay::time::Duration::minutes(5),
        &ReconcilePolicy::default(),
    )
    .await
    .unwrap();
    assert!(report.paid.is_empty(), "{report:?}");
    assert_eq!(
        world
            .store
            .load("taken-1")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "expired"
    );
}

#[tokio::test]
async fn a_barcode_xorpay_has_not_seen_yet_is_not_given_up_while_its_request_may_run() {
    let mut world = world::<Till>().await;
    let created = Order::new(Till {
        id: "till-3".into(),
        title: "门店订单".into(),
        total: price("6.60"),
        code: "134657556554411111".into(),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    // The request is slow to reach XorPay: the client gives up before XorPay charges.
    world.sandbox.inject_route_fault(
        Route::Barcode,
        RouteFault::delay(Duration::from_millis(1500)),
        FaultTimes::Once,
    );
    let failed = world.client.barcode_pay(created).await.unwrap_err();
    assert!(matches!(failed.error(), ClientError::Timeout { .. }));
    assert!(world.sandbox.order_by_order_id("till-3").is_none());
    let settled = settle_submission(&world.store, &world.client, failed.into_order(), now())
        .await
        .unwrap();
    assert!(matches!(settled, Submission::InDoubt), "{settled:?}");
    assert_eq!(
        world
            .store
            .load("till-3")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "created"
    );

    // XorPay charges the code after all; the notification pays the order once.
    let notification = world.receiver.next_verified(SECRET).await;
    let confirmed = confirm_notification_with(&world.store, &world.client, notification)
        .await
        .unwrap();
    assert!(confirmed.is_new());
    agree(&world, "till-3").await;
}

#[tokio::test]
async fn a_payment_only_a_query_proved_is_refundable_once_its_aoid_is_recorded_from_the_dashboard()
{
    let world = world::<Till>().await;
    // Every notification fails, so nothing but XorPay's dashboard will ever name the aoid.
    world.receiver.answer(500);
    let created = Order::new(Till {
        id: "till-4".into(),
        title: "门店订单".into(),
        total: price("9.00"),
        code: "134657556554411111".into(),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    let failed = world.client.barcode_pay(created).await.unwrap_err();
    let settled = settle_submission(&world.store, &world.client, failed.into_order(), now())
        .await
        .unwrap();
    assert!(matches!(settled, Submission::Paid(_)), "{settled:?}");
    let refused = refund(&world.store, &world.client, "till-4", price("1.00"), now()).await;
    assert!(
        matches!(
            refused,
            Err(xorpay::store::RefundError::Limit(
                xorpay::order::RefundLimit::AoidUnknown
            ))
        ),
        "{refused:?}"
    );

    // The merchant reads the aoid on the dashboard (here: the sandbox's ledger).
    let aoid = world.sandbox.order_by_order_id("till-4").unwrap().aoid;
    let Some(StoredOrder::Paid(mut paid)) = world.store.load("till-4").await.unwrap() else {
        panic!("expected the order paid")
    };
    paid.record_aoid(xorpay::Aoid::new(aoid.as_str()).unwrap())
        .unwrap();
    assert_eq!(
        world.store.update_paid(&mut paid).await.unwrap(),
        xorpay::store::Transition::Applied
    );
    // XorPay refunds only `success` orders; an unacknowledged one is `payed`. The merchant
    // acknowledges by fixing its endpoint; XorPay's next retry succeeds.
    world.receiver.answer(200);
    world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await;
    let made = refund(&world.store, &world.client, "till-4", price("1.00"), now()).await;
    assert!(matches!(made, Ok(RefundOutcome::Made)), "{made:?}");
    agree(&world, "till-4").await;
}

#[tokio::test]
async fn a_cashier_page_never_opened_expires_by_the_clock_instead_of_being_asked_about_forever() {
    #[derive(XorPayOrder, Serialize, Deserialize, Debug)]
    #[xorpay(kind = cashier, notify_url = from_client)]
    struct Counter {
        #[xorpay(order_id)]
        id: String,
        #[xorpay(name)]
        title: String,
        #[xorpay(price)]
        total: Price,
    }
    let world = world::<Counter>().await;
    let created = Order::new(Counter {
        id: "counter-1".into(),
        title: "收银台".into(),
        total: price("3.00"),
    })
    .unwrap();
    world.store.insert(&created).await.unwrap();
    let (pending, _page) = world.client.cashier(created).unwrap();
    let _ = world.store.mark_pending(&pending).await.unwrap();
    // The payer never opens the page: XorPay never hears of the order.
    let policy = ReconcilePolicy::default();
    let soon = now() + xorpay::time::Duration::minutes(5);
    let report = reconcile(&world.store, &world.client, soon, &policy)
        .await
        .unwrap();
    assert_eq!(report.open, 1, "{report:?}");
    let after_lifetime = now() + xorpay::time::Duration::hours(3);
    let report = reconcile(&world.store, &world.client, after_lifetime, &policy)
        .await
        .unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    assert_eq!(
        world
            .store
            .load("counter-1")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "expired"
    );
}
