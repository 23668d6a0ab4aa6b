//! The lifecycle service against the in-process sandbox, scenario by scenario: every answer
//! XorPay can lose after acting, concurrent and repeated refunds, late payments, `fee_error`,
//! a notification faster than XorPay's answer, a secret rotation, and a restart of the service
//! (store reopened, sandbox still up) between steps. After each, the store and the sandbox
//! agree on every order's state, paid amount and refunded amount (refunds in doubt resolved
//! from the sandbox's ledger, as a merchant would from the dashboard), and the fulfilment hook
//! ran once per paid order; more only where a holder is killed between hook and record, and
//! the test says so.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::scripted::scripted_xorpay;
use support::world::{Db, World};
use support::{Captured, SECRET, TempDir};
use xorpay::order::StoredOrder;
use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay::store::{Claim, OrderStore};
use xorpay::{CheckoutError, Notification, NotifyError, OrderError, RefundError};
use xorpay_sandbox::{FaultTimes, OrderState, Route, RouteFault};

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn minutes(n: i64) -> xorpay::time::Duration {
    xorpay::time::Duration::minutes(n)
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn tea(id: &str, total: &str) -> Tea {
    Tea {
        id: id.into(),
        title: "乌龙茶".into(),
        total: price(total),
    }
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
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

/// A code paid at once, and one that waits for the payer's password (ends in 0000).
const PAID_AT_ONCE: &str = "134657556554411111";
const WAITS: &str = "134657556554410000";

fn till(id: &str, total: &str, code: &str) -> Till {
    Till {
        id: id.into(),
        title: "门店订单".into(),
        total: price(total),
        code: code.into(),
    }
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct Counter {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// A paid Tea order, checked out, paid and confirmed through the notify endpoint.
/// A reconciliation pass asks XorPay about nothing: no order is expired, open or failed, and
/// `order_id` stays `state`.
async fn nothing_asked<O: xorpay::service::ServiceOrder>(
    world: &World<O>,
    order_id: &str,
    state: &str,
) {
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(
        (report.expired, report.open, report.failed),
        (0, 0, 0),
        "{report:?}"
    );
    assert_eq!(world.stored(order_id).await.unwrap().state_name(), state);
}

async fn paid_tea(world: &World<Tea>, id: &str, total: &str) {
    let checkout = world.payments().checkout(tea(id, total)).await.unwrap();
    assert!(matches!(checkout, Checkout::Pending(_)), "{checkout:?}");
    world.pay(id).await;
    world.wait_until(id, OrderState::Success).await;
    world.wait_stored(id, "paid").await;
}

/// The fulfilment hook runs once for the order, after a restart too.
async fn fulfilled_once<O: xorpay::service::ServiceOrder>(world: &World<O>, id: &str) {
    world.run_hooks().await;
    world.restart();
    world.run_hooks().await;
    assert_eq!(world.hook.runs(id), 1, "{id}: the hook ran other than once");
}

/// Each lost-answer scenario, once per store: what the service does when XorPay's answer is
/// lost must not depend on the database under it.
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::$test(super::Db::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test] async fn $test() { super::$test(super::Db::Postgres).await; })*
        }
        mod mysql {
            $(#[tokio::test] async fn $test() { super::$test(super::Db::MySql).await; })*
        }
    };
}

on_every_store!(
    a_created_order_whose_answer_was_lost_is_recovered_and_paid_once,
    a_charged_barcode_whose_answer_was_lost_is_paid_and_learns_its_aoid,
    a_waiting_barcode_whose_answer_was_lost_is_never_sent_twice,
    refunds_whose_answers_were_lost_stay_in_doubt_until_resolved_from_the_ledger,
    reconciliation_records_a_charged_barcode_order_whose_answer_was_lost,
    reconciliation_recovers_an_order_created_at_xorpay_whose_answer_was_lost,
);

async fn a_created_order_whose_answer_was_lost_is_recovered_and_paid_once(db: Db) {
    // Lost after XorPay created it, answered too late, dropped before XorPay did anything:
    // the service cannot tell these apart, and must settle each.
    for (n, fault) in [
        RouteFault::AnswerLost,
        RouteFault::answer_late(Duration::from_millis(1500)),
        RouteFault::DropConnection,
    ]
    .into_iter()
    .enumerate()
    {
        let Some(world) = World::<Tea>::on(db).await else {
            return;
        };
        let id = format!("lost-create-{n}");
        world
            .sandbox
            .inject_route_fault(Route::Pay, fault, FaultTimes::Once);
        let checkout = world.payments().checkout(tea(&id, "12.50")).await;
        let Ok(Checkout::Pending(pending)) = checkout else {
            panic!("{fault:?}: the submission was not recovered: {checkout:?}")
        };
        assert!(pending.qr().is_some());
        // One order at XorPay: the identical re-submission found the first.
        assert_eq!(world.sandbox.orders().len(), 1, "{fault:?}");
        world.agree(&id).await;
        world.restart();
        world.pay(&id).await;
        world.wait_stored(&id, "paid").await;
        world.restart();
        world.agree(&id).await;
        fulfilled_once(&world, &id).await;
    }
}

async fn a_charged_barcode_whose_answer_was_lost_is_paid_and_learns_its_aoid(db: Db) {
    let Some(world) = World::<Till>::on(db).await else {
        return;
    };
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    // query2 says paid: recorded paid, without the aoid a query cannot tell. (The charge's
    // notification is held back meanwhile, so that it comes second.)
    world.notifications_answer(503);
    let checkout = world
        .payments()
        .checkout(till("till-1", "8.80", PAID_AT_ONCE))
        .await;
    let Ok(Checkout::Paid(paid)) = checkout else {
        panic!("the charge was not recorded: {checkout:?}")
    };
    assert_eq!(paid.aoid(), None);
    world.restart();
    world.notifications_answer(0);
    // The notification names the aoid; the order learns it, and is not paid twice.
    world.wait_until("till-1", OrderState::Success).await;
    assert_eq!(
        world.paid("till-1").await.aoid().map(|a| a.to_string()),
        Some(world.aoid("till-1"))
    );
    world.agree("till-1").await;
    fulfilled_once(&world, "till-1").await;
    // Never charged twice: one order at XorPay.
    assert_eq!(world.sandbox.orders().len(), 1);
}

async fn a_waiting_barcode_whose_answer_was_lost_is_never_sent_twice(db: Db) {
    let Some(world) = World::<Till>::on(db).await else {
        return;
    };
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    let checkout = world
        .payments()
        .checkout(till("till-2", "300.00", WAITS))
        .await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );
    assert_eq!(world.sandbox.orders().len(), 1);
    world.restart();
    // The payer confirms; the notification pays the order still stored as created.
    world.pay("till-2").await;
    world.wait_stored("till-2", "paid").await;
    world.restart();
    world.agree("till-2").await;
    fulfilled_once(&world, "till-2").await;
}

#[tokio::test]
async fn a_barcode_whose_request_reaches_xorpay_late_is_kept_in_doubt_then_paid() {
    let world = World::<Till>::new().await;
    // The request is slow to reach XorPay: the service gives up before XorPay charges.
    world.sandbox.inject_route_fault(
        Route::Barcode,
        RouteFault::delay(Duration::from_millis(1500)),
        FaultTimes::Once,
    );
    let checkout = world
        .payments()
        .checkout(till("till-3", "6.60", PAID_AT_ONCE))
        .await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );
    assert!(world.sandbox.order_by_order_id("till-3").is_none());
    // Reconciliation while the request may still run does not give it up, even when set
    // to take every created order for stale at once: the service never counts an order
    // stale before the client's timeout (and a margin) has passed.
    world.restart_with_policy(xorpay::service::ReconcilePolicy {
        stale_after: Duration::ZERO,
        ..Default::default()
    });
    world
        .clock
        .advance(xorpay::time::Duration::milliseconds(900));
    nothing_asked(&world, "till-3", "created").await;
    // XorPay charges the code after all; the notification pays the order once.
    world.wait_stored("till-3", "paid").await;
    world.agree("till-3").await;
    fulfilled_once(&world, "till-3").await;
}

async fn refunds_whose_answers_were_lost_stay_in_doubt_until_resolved_from_the_ledger(db: Db) {
    let Some(world) = World::<Tea>::on(db).await else {
        return;
    };
    paid_tea(&world, "refund-1", "20.00").await;
    let aoid = world.aoid("refund-1");

    // Lost after the refund was made, late after it was made, dropped before XorPay did
    // anything.
    let cases = [
        (RouteFault::AnswerLost, "1.00", true),
        (
            RouteFault::answer_late(Duration::from_millis(1500)),
            "2.00",
            true,
        ),
        (RouteFault::DropConnection, "4.00", false),
    ];
    for (n, (fault, amount, made)) in cases.into_iter().enumerate() {
        let key = format!("r-{n}");
        world
            .sandbox
            .inject_route_fault(Route::Refund, fault, FaultTimes::Once);
        let outcome = world.refund("refund-1", price(amount), &key).await;
        let Err(RefundError::InDoubt {
            refund,
            error: Some(error),
        }) = outcome
        else {
            panic!("{fault:?}: expected the refund in doubt, got {outcome:?}")
        };
        assert!(!error.is_safe_to_retry(), "{error:?}");
        assert_eq!(refund.amount(), price(amount));
        world.restart();
        // Asked again with the same key: still the same refund, in doubt; nothing is sent.
        let again = world.refund("refund-1", price(amount), &key).await;
        assert!(
            matches!(again, Err(RefundError::InDoubt { error: None, .. })),
            "{again:?}"
        );
        // Another refund waits for this one.
        let other = world.refund("refund-1", Price::MIN, "other").await;
        assert!(
            matches!(other, Err(RefundError::AnotherInDoubt { .. })),
            "{other:?}"
        );
        // Too early, the dashboard proves nothing: resolving is refused.
        let early = world.resolve_refund("refund-1", &key, false).await;
        assert!(
            matches!(early, Err(RefundError::TooEarly { .. })),
            "{early:?}"
        );
        tokio::time::sleep(Duration::from_millis(1600)).await;
        // Until the resolve window (5 minutes by default) has passed, still refused.
        world.clock.advance(minutes(4));
        let early = world.resolve_refund("refund-1", &key, false).await;
        assert!(
            matches!(early, Err(RefundError::TooEarly { .. })),
            "{early:?}"
        );
        world.clock.advance(minutes(1));
        // The merchant reads XorPay's books and resolves it.
        let ledger = world.sandbox.order(&aoid).unwrap();
        let on_ledger = ledger.refunds.iter().any(|r| r.fen == price(amount).fen());
        assert_eq!(on_ledger, made, "{fault:?}");
        world
            .resolve_refund("refund-1", &key, on_ledger)
            .await
            .unwrap();
        world.restart();
        world.agree("refund-1").await;
    }
    let paid = world.paid("refund-1").await;
    assert_eq!(paid.refunded(), Some(price("3.00")));
    assert_eq!(paid.refundable(), Some(price("17.00")));
    fulfilled_once(&world, "refund-1").await;
}

#[tokio::test]
async fn concurrent_refunds_never_refund_more_than_was_paid() {
    let world = World::<Tea>::new().await;
    paid_tea(&world, "race-1", "10.00").await;
    // Eight refunds of 3.00 at once, each under its own key (two admins, double clicks):
    // each reads the order, and only one at a time can record its refund in doubt.
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let payments = world.payments();
            tokio::spawn(async move {
                let Some(StoredOrder::Paid(paid)) = payments.order("race-1").await.unwrap() else {
                    panic!("expected race-1 paid")
                };
                payments
                    .refund(&paid, price("3.00"), &format!("k-{n}"))
                    .await
            })
        })
        .collect();
    let mut made = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => made += 1,
            Err(
                RefundError::AnotherInDoubt { .. }
                | RefundError::ExceedsRefundable { .. }
                | RefundError::Order(OrderError::Changed { .. }),
            ) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!((1..=3).contains(&made), "{made} refunds of 3.00 from 10.00");
    world.restart();
    world.agree("race-1").await;
    // What is left is still refundable, exactly.
    let left = world.paid("race-1").await.refundable().unwrap();
    world.refund("race-1", left, "the-rest").await.unwrap();
    world.agree("race-1").await;
    assert_eq!(world.paid("race-1").await.refundable(), None);
}

#[tokio::test]
async fn a_repeated_refund_key_returns_the_first_outcome() {
    let world = World::<Tea>::new().await;
    paid_tea(&world, "key-1", "5.00").await;
    let first = world.refund("key-1", price("2.00"), "ticket-7").await;
    assert!(first.is_ok(), "{first:?}");
    world.restart();
    // The same request again (a double click, a retried HTTP call): the first outcome.
    let again = world.refund("key-1", price("2.00"), "ticket-7").await;
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(
        world
            .sandbox
            .order_by_order_id("key-1")
            .unwrap()
            .refunds
            .len(),
        1
    );
    // The key for another amount is a mistake, refused.
    let other = world.refund("key-1", price("3.00"), "ticket-7").await;
    assert!(
        matches!(other, Err(RefundError::KeyReused { .. })),
        "{other:?}"
    );
    // A refusal is remembered too: over the amount left, XorPay is not even asked.
    let over = world.refund("key-1", price("4.00"), "ticket-8").await;
    assert!(
        matches!(over, Err(RefundError::ExceedsRefundable { .. })),
        "{over:?}"
    );
    world.agree("key-1").await;
    let history: Vec<_> = world
        .paid("key-1")
        .await
        .refunds()
        .iter()
        .map(|r| (r.key().to_owned(), r.amount()))
        .collect();
    assert_eq!(history, [("ticket-7".to_owned(), price("2.00"))]);
}

/// A refund in doubt resolvable only after `Duration::MAX` (never) is refused as too early,
/// even years later (it once overflowed the clock: a panic in `resolve_refund`).
#[tokio::test]
async fn a_refund_wait_of_forever_keeps_refusing_to_resolve() {
    let world = World::<Tea>::new().await;
    paid_tea(&world, "wait-1", "5.00").await;
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let outcome = world.refund("wait-1", price("1.00"), "k").await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "{outcome:?}"
    );
    world.restart_with_refund_wait(Duration::MAX);
    world.clock.advance(xorpay::time::Duration::days(3650));
    let early = world.resolve_refund("wait-1", "k", true).await;
    assert!(
        matches!(early, Err(RefundError::TooEarly { .. })),
        "{early:?}"
    );
}

/// Policies of `Duration::MAX` (forever) mean forever: an order never counted stale is not
/// asked about, and one asked about forever after its expiry is never told expired nor
/// pruned. Each once overflowed the clock: a panic in reconciliation and in pruning, and an
/// expiry told at once.
#[tokio::test]
async fn reconcile_policies_of_forever_mean_forever() {
    let world = World::<Tea>::new().await;
    let checkout = world
        .payments()
        .checkout(tea("forever-1", "3.00"))
        .await
        .unwrap();
    assert!(matches!(checkout, Checkout::Pending(_)));
    world.restart_with_policy(xorpay::service::ReconcilePolicy {
        stale_after: Duration::MAX,
        expired_grace: Duration::MAX,
        ..Default::default()
    });
    world.clock.advance(xorpay::time::Duration::days(30));
    nothing_asked(&world, "forever-1", "pending").await;

    // Expired at XorPay: recorded, and since it is asked about forever after, a late payment
    // can always still come, so the hook is never told it expired (a wait too long for the
    // clock once made that "at once").
    world.sandbox.advance_clock(Duration::from_secs(7300));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.expired, 0, "not stale: not asked about {report:?}");
    world.restart_with_policy(xorpay::service::ReconcilePolicy {
        expired_grace: Duration::MAX,
        ..Default::default()
    });
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    world.clock.advance(xorpay::time::Duration::days(365));
    world.run_hooks().await;
    assert_eq!(world.hook.others(), [], "no expiry told");
    // Nor is the expired order ever pruned: it may still change.
    let pruned = world.payments().prune(Duration::from_secs(86_400)).await;
    assert_eq!(pruned.unwrap().orders, 0);
    assert!(world.stored("forever-1").await.is_some());
}

#[tokio::test]
async fn a_late_payment_after_expiry_is_recorded_with_and_without_an_aoid() {
    // With an aoid: XorPay reported the order expired, then its channel completed the
    // payment (the race at the end of a lifetime).
    let world = World::<Tea>::new().await;
    let checkout = world
        .payments()
        .checkout(tea("late-1", "3.00"))
        .await
        .unwrap();
    assert!(matches!(checkout, Checkout::Pending(_)));
    world.sandbox.advance_clock(Duration::from_secs(7300));
    world.clock.advance(minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    world.restart();
    world.sandbox.pay_late(&world.aoid("late-1")).await.unwrap();
    world.wait_stored("late-1", "paid").await;
    world.agree("late-1").await;
    fulfilled_once(&world, "late-1").await;

    // Without an aoid: a cashier page nobody opened expires by the clock; the payer opens it
    // late and pays. XorPay names the aoid only in the notification, which is paired with
    // XorPay's own answer to a query.
    let world = World::<Counter>::new().await;
    let order = Counter {
        id: "late-2".into(),
        title: "收银台".into(),
        total: price("3.00"),
    };
    let Checkout::Pending(pending) = world.payments().checkout(order).await.unwrap() else {
        panic!("expected a cashier page")
    };
    let page = pending.cashier().expect("a cashier page").clone();
    world.clock.advance(minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.open, 1, "{report:?}");
    world.clock.advance(xorpay::time::Duration::hours(3));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");
    world.restart();
    assert_eq!(reqwest::get(&page.url).await.unwrap().status(), 200);
    world.pay("late-2").await;
    world.wait_stored("late-2", "paid").await;
    world.agree("late-2").await;
    fulfilled_once(&world, "late-2").await;
}

#[tokio::test]
async fn fee_error_is_reported_and_the_order_kept_open() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let world = World::<Tea>::new().await;
    let _ = world
        .payments()
        .checkout(tea("fee-1", "10.00"))
        .await
        .unwrap();
    world.sandbox.set_balance_fen(Some(0));
    world.pay("fee-1").await;
    world.restart();
    world.clock.advance(minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.fee_error, ["fee-1".to_owned()], "{report:?}");
    // Still pending (the payer paid, XorPay has not confirmed it): nothing is fulfilled,
    // and the order is listed for a person (the balance must be topped up).
    assert_eq!(world.stored("fee-1").await.unwrap().state_name(), "pending");
    let attention = world.payments().needing_attention(10).await.unwrap();
    let listed: Vec<_> = attention.iter().map(|l| l.order.order_id()).collect();
    assert_eq!(listed, ["fee-1"]);
    world.run_hooks().await;
    assert_eq!(world.hook.runs("fee-1"), 0);
    // The merchant is told what to do.
    let log = captured.text();
    assert!(
        log.contains("fee_error") && log.contains("top up"),
        "nothing told the merchant: {log:?}"
    );
}

#[tokio::test]
async fn a_notification_before_the_submissions_answer_pays_the_order_once() {
    let world = World::<Tea>::with_timeout(Duration::from_secs(5)).await;
    world.sandbox.inject_route_fault(
        Route::Pay,
        RouteFault::answer_late(Duration::from_millis(1500)),
        FaultTimes::Once,
    );
    let payments = world.payments();
    let checkout = tokio::spawn(async move { payments.checkout(tea("fast-1", "7.00")).await });
    // XorPay created the order and the payer pays before XorPay's answer reaches the shop.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while world.sandbox.order_by_order_id("fast-1").is_none() {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    world.pay("fast-1").await;
    world.wait_until("fast-1", OrderState::Success).await;
    assert_eq!(world.stored("fast-1").await.unwrap().state_name(), "paid");
    let checkout = checkout.await.unwrap();
    assert!(matches!(checkout, Ok(Checkout::Paid(_))), "{checkout:?}");
    world.restart();
    world.agree("fast-1").await;
    fulfilled_once(&world, "fast-1").await;
}

#[tokio::test]
async fn notifications_signed_with_the_previous_secret_count_only_within_the_rotation_window() {
    // Paid before the rotation, its notification failing until after it.
    let world = World::<Tea>::new().await;
    let _ = world
        .payments()
        .checkout(tea("rot-1", "1.00"))
        .await
        .unwrap();
    world.notifications_answer(503);
    world.pay("rot-1").await;
    // The secret is reset in XorPay's dashboard now, and the service restarted with it.
    world.sandbox.rotate_secret(NEXT);
    world.restart_with(Some((NEXT, Some(retired_at(world.clock.now())))));
    world.notifications_answer(0);
    // Inside the window: XorPay's retry, signed with the previous secret, is accepted (once
    // XorPay's own answer, asked with the new secret, says it is paid).
    world.wait_stored("rot-1", "paid").await;
    world.wait_until("rot-1", OrderState::Success).await;
    world.agree("rot-1").await;

    // Outside the window it is refused and pays nothing.
    let world = World::<Tea>::new().await;
    let _ = world
        .payments()
        .checkout(tea("rot-2", "1.00"))
        .await
        .unwrap();
    world.notifications_answer(503);
    world.pay("rot-2").await;
    world.clock.advance(xorpay::time::Duration::hours(7));
    world.sandbox.rotate_secret(NEXT);
    let retired = retired_at(world.clock.now() - xorpay::time::Duration::hours(7));
    world.restart_with(Some((NEXT, Some(retired))));
    world.notifications_answer(0);
    let aoid = world.aoid("rot-2");
    let refused = world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(10), |order| {
            order.deliveries.iter().any(|d| d.status == Some(400))
        })
        .await
        .unwrap();
    assert!(
        refused.deliveries.iter().any(|d| d.status == Some(400)),
        "{refused:?}"
    );
    assert_eq!(world.stored("rot-2").await.unwrap().state_name(), "pending");
}

/// The secret the merchant rotates to.
const NEXT: &str = "fedcba9876543210fedcba9876543210";

fn retired_at(at: xorpay::time::OffsetDateTime) -> support::world::Retired {
    (SECRET, at)
}

#[tokio::test]
async fn a_holder_killed_before_recording_its_fulfilment_is_taken_over_after_its_lease() {
    let world = World::<Tea>::new().await;
    paid_tea(&world, "claim-1", "2.00").await;
    paid_tea(&world, "claim-2", "2.00").await;
    // Another process's connection to the same store file.
    let store = xorpay::SqliteStore::open(world.db()).unwrap();
    // A process claims claim-1 and dies before running the hook; another claims claim-2,
    // runs the hook (counted here), and dies before recording it.
    let dead = store
        .claim(&Claim {
            order_id: Some("claim-1"),
            token: "dead-before-hook",
            lease: Duration::from_secs(1),
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let dead = store
        .claim(&Claim {
            order_id: Some("claim-2"),
            token: "dead-after-hook",
            lease: Duration::from_secs(1),
            limit: 1,
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let StoredOrder::Paid(claimed) = world.stored("claim-2").await.unwrap() else {
        panic!("expected paid")
    };
    Hook::on(&world.hook, Event::Paid(&claimed)).await.unwrap();
    // While the leases run, nobody else hands either order to the hook.
    world.run_hooks().await;
    assert_eq!(
        (world.hook.runs("claim-1"), world.hook.runs("claim-2")),
        (0, 1)
    );
    // After them, both are taken over: claim-1 is delivered once, claim-2 a second time
    // (its holder died between hook and record: the hook must be idempotent).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    world.run_hooks().await;
    assert_eq!(
        (world.hook.runs("claim-1"), world.hook.runs("claim-2")),
        (1, 2)
    );
    world.run_hooks().await;
    assert_eq!(
        (world.hook.runs("claim-1"), world.hook.runs("claim-2")),
        (1, 2)
    );
}

#[tokio::test]
async fn checkout_is_safe_to_repeat() {
    let world = World::<Tea>::new().await;
    let first = world
        .payments()
        .checkout(tea("again-1", "1.00"))
        .await
        .unwrap();
    let Checkout::Pending(first) = first else {
        panic!()
    };
    world.restart();
    let Checkout::Pending(second) = world
        .payments()
        .checkout(tea("again-1", "1.00"))
        .await
        .unwrap()
    else {
        panic!("a repeated checkout did not find the first")
    };
    assert_eq!(first.aoid(), second.aoid());
    assert_eq!(world.sandbox.orders().len(), 1);
    // Another order under the same number is refused.
    let other = world.payments().checkout(tea("again-1", "2.00")).await;
    assert!(
        matches!(other, Err(CheckoutError::Duplicate(_))),
        "{other:?}"
    );
    // XorPay unreachable: nothing sent, and checking the same order out again works.
    world
        .sandbox
        .inject_route_fault(Route::Pay, RouteFault::DropConnection, FaultTimes::Once);
    let dropped = world.payments().checkout(tea("again-2", "1.00")).await;
    assert!(matches!(dropped, Ok(Checkout::Pending(_))), "{dropped:?}");
    world.agree("again-2").await;
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = from_client)]
struct Scan {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = jsapi, notify_url = from_client)]
struct InWeChat {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(openid)]
    openid: String,
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = mini_program, appid = "wx6c2423928b92ca14", notify_url = from_client)]
struct Mini {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(openid)]
    openid: String,
}

#[tokio::test]
async fn every_kind_of_order_checks_out_and_is_paid_once() {
    let world = World::<Scan>::new().await;
    let order = Scan {
        id: "k-native".into(),
        title: "扫码".into(),
        total: price("1.00"),
    };
    let Checkout::Pending(pending) = world.payments().checkout(order).await.unwrap() else {
        panic!()
    };
    assert!(pending.qr().unwrap().starts_with("weixin://"));
    world.pay("k-native").await;
    world.wait_stored("k-native", "paid").await;
    fulfilled_once(&world, "k-native").await;

    let world = World::<Tea>::new().await;
    let Checkout::Pending(pending) = world
        .payments()
        .checkout(tea("k-alipay", "1.00"))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(pending.qr().unwrap().starts_with("https://qr.alipay.com/"));

    let world = World::<InWeChat>::new().await;
    let order = InWeChat {
        id: "k-jsapi".into(),
        title: "公众号".into(),
        total: price("1.00"),
        openid: world.sandbox.issue_openid(),
    };
    let Checkout::Pending(pending) = world.payments().checkout(order).await.unwrap() else {
        panic!()
    };
    assert!(
        pending
            .jsapi_params()
            .unwrap()
            .package
            .starts_with("prepay_id=")
    );
    world.pay("k-jsapi").await;
    world.wait_stored("k-jsapi", "paid").await;
    world.agree("k-jsapi").await;
    fulfilled_once(&world, "k-jsapi").await;

    let world = World::<Mini>::new().await;
    let order = Mini {
        id: "k-mini".into(),
        title: "小程序".into(),
        total: price("1.00"),
        openid: "o-from-the-mini-program".into(),
    };
    let Checkout::Pending(pending) = world.payments().checkout(order).await.unwrap() else {
        panic!()
    };
    assert!(pending.jsapi_params().is_some());

    let world = World::<Counter>::new().await;
    let order = Counter {
        id: "k-cashier".into(),
        title: "收银台".into(),
        total: price("1.00"),
    };
    let Checkout::Pending(pending) = world.payments().checkout(order.clone()).await.unwrap() else {
        panic!()
    };
    let page = pending.cashier().expect("a cashier page").clone();
    assert!(page.url.contains("/api/cashier/"));
    // A repeated checkout gives the page again.
    let Checkout::Pending(again) = world.payments().checkout(order).await.unwrap() else {
        panic!()
    };
    assert_eq!(again.cashier(), Some(&page));
    reqwest::get(&page.url).await.unwrap();
    world.pay("k-cashier").await;
    world.wait_stored("k-cashier", "paid").await;
    world.agree("k-cashier").await;

    let world = World::<Till>::new().await;
    let Checkout::Pending(pending) = world
        .payments()
        .checkout(till("k-barcode", "1.00", PAID_AT_ONCE))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(pending.aoid().is_some());
    world.wait_stored("k-barcode", "paid").await;
    world.agree("k-barcode").await;
    fulfilled_once(&world, "k-barcode").await;
}

#[tokio::test]
async fn an_order_xorpay_refuses_for_good_is_never_paid_by_another_orders_query() {
    let world = World::<Tea>::new().await;
    // XorPay already holds this number with other parameters (another process, an earlier
    // version of the shop).
    let other = Tea {
        id: "taken-1".into(),
        title: "另一个 Another".into(),
        total: price("1.00"),
    };
    let elsewhere = world.another(SqliteStore::in_memory().unwrap(), world.hook.clone());
    let Checkout::Pending(other) = elsewhere.checkout(other).await.unwrap() else {
        panic!("expected the other order pending")
    };
    let refused = world.payments().checkout(tea("taken-1", "12.50")).await;
    assert!(
        matches!(
            refused,
            Err(CheckoutError::Refused {
                error: xorpay::ApiError::OrderExist,
                ..
            })
        ),
        "{refused:?}"
    );
    world.restart();
    // The other order is paid. query2 says `payed`, but about XorPay's order, not this one.
    world
        .sandbox
        .pay(other.aoid().unwrap().as_str())
        .await
        .unwrap();
    world.clock.advance(minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert!(report.paid.is_empty(), "{report:?}");
    let state = world.stored("taken-1").await.map(|o| o.state_name());
    assert_eq!(state, Some("expired"));
    world.run_hooks().await;
    assert_eq!(world.hook.runs("taken-1"), 0);
}

#[tokio::test]
async fn a_payment_only_a_query_proved_is_refundable_once_its_aoid_is_recorded_from_the_dashboard()
{
    let world = World::<Till>::new().await;
    // Every notification fails, so nothing but XorPay's dashboard will name the aoid.
    world.notifications_answer(500);
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    let checkout = world
        .payments()
        .checkout(till("till-4", "9.00", PAID_AT_ONCE))
        .await;
    assert!(matches!(checkout, Ok(Checkout::Paid(_))), "{checkout:?}");
    let refused = world.refund("till-4", price("1.00"), "r").await;
    assert!(
        matches!(refused, Err(RefundError::AoidUnknown)),
        "{refused:?}"
    );
    assert_eq!(
        world.payments().needing_attention(10).await.unwrap().len(),
        1
    );
    world.restart();
    // The merchant reads the aoid on the dashboard (here: the sandbox's ledger).
    let aoid = xorpay::Aoid::new(world.aoid("till-4")).unwrap();
    let paid = world.paid("till-4").await;
    world.payments().record_aoid(&paid, aoid).await.unwrap();
    assert!(
        world
            .payments()
            .needing_attention(10)
            .await
            .unwrap()
            .is_empty()
    );
    // XorPay refunds only `success` orders: the endpoint comes back, XorPay's retry is
    // acknowledged.
    world.notifications_answer(0);
    world.wait_until("till-4", OrderState::Success).await;
    let made = world.refund("till-4", price("1.00"), "r").await;
    assert!(made.is_ok(), "{made:?}");
    world.agree("till-4").await;
    fulfilled_once(&world, "till-4").await;
}

/// A refund that never left (no connection to XorPay could be made) leaves nothing behind:
/// not a refund in doubt that blocks the next one, not a "not made" entry that spends the
/// key. Asked again with the same key once XorPay is back, it is made once.
#[tokio::test]
async fn a_refund_that_could_not_be_sent_is_withdrawn_and_its_key_works_again() {
    let world = World::<Tea>::new().await;
    paid_tea(&world, "unsent-1", "6.00").await;
    world.restart_unreachable();
    let refused = world.refund("unsent-1", price("2.00"), "r-1").await;
    let Err(error) = refused else {
        panic!("expected the refund not sent, got {refused:?}")
    };
    assert!(matches!(error, RefundError::NotSent { .. }), "{error:?}");
    assert!(error.is_safe_to_retry());
    let paid = world.paid("unsent-1").await;
    assert!(paid.refunds().is_empty(), "{:?}", paid.refunds());
    assert_eq!(paid.refundable(), Some(price("6.00")));
    world.restart();
    let made = world.refund("unsent-1", price("2.00"), "r-1").await;
    assert!(made.is_ok(), "{made:?}");
    world.agree("unsent-1").await;
    assert_eq!(world.paid("unsent-1").await.refunded(), Some(price("2.00")));
}

/// During a secret rotation, a notification signed only with the retired secret (which may
/// have leaked: that is why secrets are rotated) pays nothing XorPay does not confirm, even
/// one that names the order's own `aoid` and price. A genuine one still pays.
#[tokio::test]
async fn a_notification_signed_with_the_retired_secret_needs_xorpays_word() {
    let world = World::<Tea>::new().await;
    for id in ["old-1", "old-2"] {
        let _ = world.payments().checkout(tea(id, "3.00")).await.unwrap();
    }
    world.notifications_answer(503);
    world.pay("old-2").await;
    world.sandbox.rotate_secret(NEXT);
    world.restart_with(Some((NEXT, Some(retired_at(world.clock.now())))));
    // Forged with the old secret, for the unpaid order: refused, still pending.
    let forged = support::signed_notification(&world.aoid("old-1"), "old-1", "3.00");
    let refused = world.payments().confirm(forged.as_bytes()).await;
    assert!(
        matches!(
            refused,
            Err(xorpay::NotifyError::Mismatch {
                reason: xorpay::order::ConfirmError::NotPaid(_),
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(world.stored("old-1").await.unwrap().state_name(), "pending");
    // Really paid before the rotation (XorPay's own notification, signed with the old
    // secret, retried): recorded.
    world.notifications_answer(0);
    world.wait_stored("old-2", "paid").await;
    world.agree("old-2").await;
    fulfilled_once(&world, "old-2").await;
}

/// XorPay already holds the order paid when the service first sends it (its row was lost:
/// the store restored from an older backup): XorPay answers `order_payed`. The payment is
/// recorded, not refused away, and the notification that follows names its `aoid`.
#[tokio::test]
async fn an_order_xorpay_already_holds_paid_is_recorded_paid_on_checkout() {
    let world = World::<Tea>::new().await;
    // Sent by a service whose store was then lost.
    let lost = world.another(SqliteStore::in_memory().unwrap(), world.hook.clone());
    let Checkout::Pending(pending) = lost.checkout(tea("restored-1", "4.20")).await.unwrap() else {
        panic!("expected it pending")
    };
    // Paid while the service has no row for it: its notifications are refused meanwhile.
    world.notifications_answer(503);
    world
        .sandbox
        .pay(pending.aoid().unwrap().as_str())
        .await
        .unwrap();
    let checkout = world.payments().checkout(tea("restored-1", "4.20")).await;
    assert!(matches!(checkout, Ok(Checkout::Paid(_))), "{checkout:?}");
    world.notifications_answer(0);
    world.wait_until("restored-1", OrderState::Success).await;
    world.restart();
    world.agree("restored-1").await;
    assert!(world.paid("restored-1").await.aoid().is_some());
    fulfilled_once(&world, "restored-1").await;
}

/// An order the store cannot read (hand-edited, or written by a newer struct) is reported
/// and put back, not asked about first in every batch.
#[tokio::test]
async fn an_unreadable_order_is_reported_once_then_backed_off() {
    let world = World::<Tea>::new().await;
    let _ = world
        .payments()
        .checkout(tea("broken-1", "1.00"))
        .await
        .unwrap();
    let db = rusqlite::Connection::open(world.db()).unwrap();
    db.execute(
        "UPDATE xorpay_orders SET order_json = '{\"id\":1}' WHERE order_id = 'broken-1'",
        [],
    )
    .unwrap();
    world.clock.advance(minutes(5));
    let first = world.payments().reconcile().await.unwrap();
    assert_eq!(first.failed, 1, "{first:?}");
    let second = world.payments().reconcile().await.unwrap();
    assert_eq!(second.failed, 0, "{second:?}");
    world.clock.advance(xorpay::time::Duration::hours(1));
    let later = world.payments().reconcile().await.unwrap();
    assert_eq!(later.failed, 1, "{later:?}");
}

/// A hook that takes a while, counting runs and catching any two runs for one order at once.
#[derive(Clone, Default)]
struct Slow {
    runs: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, usize>>>,
    running: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
    overlaps: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<O: Send + Sync + 'static> Hook<O> for Slow {
    async fn on(&self, event: Event<'_, O>) -> Result<(), HookError> {
        let Event::Paid(order) = event else {
            return Ok(());
        };
        let id = order.order_id().to_owned();
        if !self.running.lock().unwrap().insert(id.clone()) {
            self.overlaps
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        *self.runs.lock().unwrap().entry(id.clone()).or_default() += 1;
        self.running.lock().unwrap().remove(&id);
        Ok(())
    }
}

/// Two processes sweep at once while the hook takes more than a third of the lease per
/// order: every order is handed over exactly once, never to two hooks at a time. (A sweep
/// that claimed a batch at once would let the lease of the batch's tail run out before its
/// hook even started.)
#[tokio::test]
async fn concurrent_sweeps_with_a_slow_hook_fulfil_each_order_once() {
    let world = World::<Tea>::new().await;
    let ids = ["slow-1", "slow-2", "slow-3", "slow-4"];
    for id in ids {
        paid_tea(&world, id, "1.00").await;
    }
    let hook = Slow::default();
    let sweeper = |payments: Payments<Tea>| {
        tokio::spawn(async move {
            let mut fulfilled = 0;
            // Sweeps again and again for a while, as background tasks of two processes do.
            let until = tokio::time::Instant::now() + Duration::from_millis(4000);
            while tokio::time::Instant::now() < until {
                fulfilled += payments.run_hooks().await.unwrap().done;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            fulfilled
        })
    };
    // Two processes, each with its own connection to the store file.
    let process = || world.another(SqliteStore::open(world.db()).unwrap(), hook.clone());
    let first = sweeper(process());
    let second = sweeper(process());
    let fulfilled = first.await.unwrap() + second.await.unwrap();
    assert_eq!(fulfilled, ids.len());
    for id in ids {
        assert_eq!(hook.runs.lock().unwrap().get(id), Some(&1), "{id}");
    }
    assert_eq!(hook.overlaps.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// The re-cut of XorPay's unseparated notify signature against an order whose `aoid` is not
/// known yet: order `7`'s genuine notification for `150.00` also verifies as order `71` paid
/// `50.00`. When order 71 is really paid (so XorPay's query agrees), the re-cut copy must not
/// give order 71 order 7's `aoid` (its refunds would go to order 7, and its own notification
/// would be refused for ever): an `aoid` belongs to one order only.
#[tokio::test]
async fn a_recut_notification_cannot_give_an_order_another_orders_aoid() {
    let world = World::<Counter>::new().await;
    let counter = |id: &str, total: &str| Counter {
        id: id.into(),
        title: "收银台".into(),
        total: price(total),
    };
    // The payer opens each cashier page: XorPay creates the order then.
    let open = async |order: Counter| {
        let Checkout::Pending(pending) = world.payments().checkout(order).await.unwrap() else {
            panic!("expected a cashier page")
        };
        let page = pending.cashier().expect("a cashier page");
        assert_eq!(reqwest::get(&page.url).await.unwrap().status(), 200);
    };
    open(counter("7", "150.00")).await;
    world.pay("7").await;
    world.wait_stored("7", "paid").await;
    let seven = world.aoid("7");

    open(counter("71", "50.00")).await;
    world.notifications_answer(503);
    world.pay("71").await;
    let mut recut = world.sandbox.deliveries(&seven)[0].fields.clone();
    assert_eq!(
        (recut["order_id"].as_str(), recut["pay_price"].as_str()),
        ("7", "150.00")
    );
    recut.insert("order_id".into(), "71".into());
    recut.insert("pay_price".into(), "50.00".into());
    let mut body = xorpay::form::FormBody::new();
    for (key, value) in &recut {
        body.pair(key, value);
    }
    let refused = world.payments().confirm(body.as_str().as_bytes()).await;
    assert!(
        matches!(
            refused,
            Err(xorpay::NotifyError::Store(
                xorpay::store::StoreError::AoidTaken { .. }
            ))
        ),
        "{refused:?}"
    );
    let still = world.stored("71").await.unwrap();
    assert_eq!(still.state_name(), "pending");

    // The genuine notification of order 71, retried, settles it with its own aoid.
    world.notifications_answer(0);
    world.wait_stored("71", "paid").await;
    world.agree("71").await;
    world.agree("7").await;
    assert_ne!(world.paid("71").await.aoid().unwrap().as_str(), seven);
}

// XorPay's odd answers: lost together with the means to ask (query2 down), statuses nobody
// documented, a success under an error status, and the store's write that did not apply.

/// A barcode payment charges at once; its answer was lost, XorPay could not be asked
/// (query2 failing too), and every notification failed. Reconciliation must find the charge
/// of an order still `created`.
async fn reconciliation_records_a_charged_barcode_order_whose_answer_was_lost(db: Db) {
    let Some(world) = World::<Till>::on(db).await else {
        return;
    };
    world.notifications_answer(500);
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    world
        .sandbox
        .inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Always);
    let checkout = world
        .payments()
        .checkout(till("scan-1", "1.00", PAID_AT_ONCE))
        .await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );
    assert_eq!(
        world.stored("scan-1").await.unwrap().state_name(),
        "created"
    );

    world.sandbox.clear_route_faults();
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.paid.len(), 1, "{report:?}");
    assert_eq!(
        world.stored("scan-1").await.unwrap().state_name(),
        "paid",
        "the customer was charged, the store still says created"
    );
}

/// An order created at XorPay whose answer was lost and that could not be settled
/// at once: reconciliation recovers it (query2, then the identical re-submission), so the
/// payer can still pay.
async fn reconciliation_recovers_an_order_created_at_xorpay_whose_answer_was_lost(db: Db) {
    let Some(world) = World::<Coffee>::on(db).await else {
        return;
    };
    world
        .sandbox
        .inject_route_fault(Route::Pay, RouteFault::AnswerLost, FaultTimes::Once);
    world
        .sandbox
        .inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Always);
    let checkout = world.payments().checkout(coffee("lost-1", "2.00")).await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );

    world.sandbox.clear_route_faults();
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.recovered, 1, "{report:?}");
    let Some(StoredOrder::Pending(pending)) = world.stored("lost-1").await else {
        panic!("the order created at XorPay is still not pending in the store")
    };
    assert_eq!(pending.aoid().unwrap().as_str(), world.aoid("lost-1"));
    assert_eq!(world.sandbox.orders().len(), 1);
}

/// An order paid by QR code, for the scripted XorPay.
#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn coffee(id: &str, total: &str) -> Coffee {
    Coffee {
        id: id.into(),
        title: "咖啡".into(),
        total: price(total),
    }
}

/// A service whose XorPay is a scripted stand-in, with one paid order: a created-order
/// answer and a notification signed with the merchant's secret, as XorPay would send them.
async fn paid_offline(
    answers: Vec<(&'static str, u16, &'static str)>,
    id: &str,
) -> (Payments<Coffee>, TempDir) {
    let aoid = "e19c8c8673ba42419043fc92b99303c1";
    let mut answers = answers;
    answers.push((
        "/api/pay/",
        200,
        r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1","expires_in":7200,"info":{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}"#,
    ));
    let base = scripted_xorpay(answers).await;
    let dir = TempDir::new("scripted");
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(SqliteStore::open(dir.path().join("orders.sqlite")).unwrap())
        .base_url(base)
        .clock(Clock::manual(xorpay::time::OffsetDateTime::now_utc()))
        .timeout(Duration::from_millis(800))
        .no_background()
        .build()
        .unwrap();
    let checkout = payments.checkout(coffee(id, "1.00")).await.unwrap();
    assert!(matches!(checkout, Checkout::Pending(_)), "{checkout:?}");
    let body = support::signed_notification(aoid, id, "1.00");
    assert!(payments.confirm(body.as_bytes()).await.unwrap().is_new());
    (payments, dir)
}

/// The paid order `id`, loaded.
async fn paid_order(payments: &Payments<Coffee>, id: &str) -> Order<Coffee, Paid> {
    match payments.order(id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!(
            "expected {id} paid, found {:?}",
            other.map(|o| o.state_name())
        ),
    }
}

/// A refund status this version does not know may mean XorPay refunded: it must stay
/// in doubt, not be cleared as if refused (which lets it be sent again).
#[tokio::test]
async fn an_unknown_refund_status_keeps_the_refund_in_doubt() {
    let refund = ("/api/refund/", 200, r#"{"status":"refund_processing"}"#);
    let (payments, _dir) = paid_offline(vec![refund], "doubt-unknown").await;
    let paid = paid_order(&payments, "doubt-unknown").await;
    let outcome = payments.refund(&paid, price("0.10"), "r1").await;
    assert!(
        matches!(
            &outcome,
            Err(RefundError::InDoubt {
                error: Some(xorpay::client::ClientError::Api(
                    xorpay::ApiError::Unknown { .. }
                )),
                ..
            })
        ),
        "{outcome:?}"
    );
    let Some(StoredOrder::Paid(paid)) = payments.order("doubt-unknown").await.unwrap() else {
        panic!("expected paid")
    };
    assert_eq!(
        paid.refund_in_doubt().map(|r| r.amount()),
        Some(price("0.10"))
    );
}

/// A non-2xx answer is not a success, whatever its JSON says.
#[tokio::test]
async fn an_ok_under_an_error_status_is_not_a_success() {
    let refund = ("/api/refund/", 400, r#"{"status":"ok"}"#);
    let (payments, _dir) = paid_offline(vec![refund], "doubt-403").await;
    let paid = paid_order(&payments, "doubt-403").await;
    let outcome = payments.refund(&paid, price("0.10"), "r1").await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "a 400 counted as a refund: {outcome:?}"
    );
    let Some(StoredOrder::Paid(paid)) = payments.order("doubt-403").await.unwrap() else {
        panic!("expected paid")
    };
    assert_eq!(paid.refunded(), None);

    let created = (
        "/api/pay/",
        403,
        r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1","expires_in":7200,"info":{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}"#,
    );
    let base = scripted_xorpay(vec![created]).await;
    let dir = TempDir::new("scripted");
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(SqliteStore::open(dir.path().join("orders.sqlite")).unwrap())
        .base_url(base)
        .no_background()
        .build()
        .unwrap();
    let checkout = payments.checkout(coffee("created-403", "1.00")).await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "a 403 counted as a created order: {checkout:?}"
    );
}

/// A genuine notification whose `pay_time` has a form nobody documented is still a
/// payment: the field is informational.
#[test]
fn a_genuine_notification_with_an_odd_pay_time_verifies() {
    for pay_time in ["2026-11-27T21:03:59+08:00", "2026/11/27 21:03:59", ""] {
        let body = xorpay_testkit::Notification::new(
            "e19c8c8673ba42419043fc92b99303c1",
            "odd-time",
            "1.00",
        )
        .at(pay_time)
        .body(SECRET);
        let verified = Notification::parse(body.as_bytes())
            .unwrap()
            .verify(&AppSecret::new(SECRET).unwrap());
        assert!(verified.is_ok(), "{pay_time:?}: {verified:?}");
        assert_eq!(verified.unwrap().raw_pay_time(), pay_time);
    }
}

/// When the store's conditional write does not apply, the order must be read back:
/// only an order that really is paid is acknowledged as "already paid".
#[tokio::test]
async fn a_write_that_did_not_apply_is_read_back_before_acknowledging() {
    let world = World::<Coffee>::new().await;
    world.notifications_answer(503);
    let _ = world
        .payments()
        .checkout(coffee("readback-1", "4.00"))
        .await
        .unwrap();
    let aoid = world.aoid("readback-1");
    // The row's columns no longer let the conditional write apply (another writer, a
    // migration gone wrong): the order is not paid, whatever the write's caller assumes.
    let db = rusqlite::Connection::open(world.db()).unwrap();
    db.execute(
        "UPDATE xorpay_orders SET aoid = 'ffffffffffffffffffffffffffffffff' WHERE order_id = 'readback-1'",
        [],
    )
    .unwrap();
    let body = support::signed_notification(&aoid, "readback-1", "4.00");
    let confirmed = world.payments().confirm(body.as_bytes()).await;
    assert!(
        confirmed.is_err(),
        "acknowledged although the store did not record the payment"
    );
    assert!(matches!(
        confirmed,
        Err(NotifyError::Store(_) | NotifyError::Order(OrderError::Changed { .. }))
    ));
    // Nothing paid.
    let db = rusqlite::Connection::open(world.db()).unwrap();
    let state: String = db
        .query_row(
            "SELECT state FROM xorpay_orders WHERE order_id = 'readback-1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(state, "pending");
}
