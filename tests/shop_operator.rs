//! The demo shop's operator binary (`examples/shop_operator.rs`, on `xorpay::cli`), run as a
//! process on the shop's database and against the sandbox: it lists the orders needing a
//! person, resolves a refund in doubt (after which the store and the sandbox's books agree),
//! and runs a reconciliation pass that records a payment whose notification never came.
//!
//! The shop's orders are made in this process with the shop's own order type and a clock
//! three hours behind, so that they are old enough for reconciliation and for resolving a
//! refund when the operator, on the real clock, looks at them. XorPay's notifications are
//! acknowledged by a receiver that does not tell the shop, so only reconciliation learns of
//! a payment.

#![cfg(feature = "cli")]

mod support;

use std::process::Output;
use std::time::Duration;

use support::{SECRET, TempDir, example};
use xorpay::RefundError;
use xorpay::order::RefundState;
use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay_sandbox::{FaultTimes, OrderState, Route, RouteFault, Sandbox};
use xorpay_testkit::Receiver;

#[path = "../examples/shop/order.rs"]
#[allow(dead_code)]
mod order;

use order::{ShopOrder, WeChatOrder};

/// The shop's public address, for the operator's settings (it creates no order).
const SHOP_URL: &str = "http://127.0.0.1:9";

struct World {
    sandbox: Sandbox,
    _receiver: Receiver,
    payments: Payments<ShopOrder>,
    database: String,
    _dir: TempDir,
}

async fn world() -> World {
    let sandbox = Sandbox::builder()
        .aid("1000")
        .secret(SECRET)
        .retry_unit(Duration::from_secs(600))
        .build()
        .start()
        .await
        .unwrap();
    // XorPay's notifications are acknowledged without reaching the shop's store: only
    // reconciliation tells it of a payment.
    let receiver = Receiver::ok().await;
    let dir = TempDir::new("shop-operator");
    let file = dir.path().join("shop.sqlite");
    let database = format!("sqlite://{}", file.display());
    let three_hours_ago =
        xorpay::time::OffsetDateTime::now_utc() - xorpay::time::Duration::hours(3);
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url(receiver.url.as_str())
        .base_url(sandbox.base_url())
        .store(SqliteStore::open(&file).unwrap())
        .clock(Clock::manual(three_hours_ago))
        .timeout(Duration::from_secs(1))
        .no_background()
        .build()
        .unwrap();
    World {
        sandbox,
        _receiver: receiver,
        payments,
        database,
        _dir: dir,
    }
}

impl World {
    /// A pending order of `price`; answers its aoid.
    async fn pending(&self, id: &str, price: &str) -> String {
        let order = ShopOrder::WeChat(WeChatOrder {
            id: id.to_owned(),
            title: "拿铁".to_owned(),
            price: price.parse().unwrap(),
            openid: self.sandbox.issue_openid(),
            product: "latte".to_owned(),
            lifetime: None,
        });
        match self.payments.checkout(order).await.unwrap() {
            Checkout::Pending(pending) => pending.aoid().unwrap().to_string(),
            other => panic!("{other:?}"),
        }
    }

    /// Runs the operator binary with the shop's settings.
    fn operator(&self, args: &[&str]) -> Output {
        std::process::Command::new(example("shop_operator"))
            .args(args)
            .env_clear()
            .env("SHOP_DATABASE_URL", &self.database)
            .env("SHOP_PUBLIC_URL", SHOP_URL)
            .env("XORPAY_AID", "1000")
            .env("XORPAY_APP_SECRET", SECRET)
            .env("XORPAY_BASE_URL", self.sandbox.base_url())
            .output()
            .unwrap()
    }
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_lists_resolves_and_reconciles_and_the_books_agree() {
    let world = world().await;

    // A paid order with a refund in doubt: XorPay made it, its answer was lost.
    let aoid = world.pending("op-a", "18.00").await;
    world.sandbox.pay(&aoid).await.unwrap();
    let Some(StoredOrder::Pending(pending)) = world.payments.order("op-a").await.unwrap() else {
        panic!("op-a is not pending")
    };
    let Ok(StoredOrder::Paid(paid)) = world.payments.settle(pending).await else {
        panic!("op-a was not settled paid")
    };
    // Refunds need XorPay's order `success`: its notification acknowledged.
    let success = world
        .sandbox
        .wait_for(&aoid, Duration::from_secs(20), |order| {
            order.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(success.state, OrderState::Success);
    world
        .sandbox
        .inject_route_fault(Route::Refund, RouteFault::AnswerLost, FaultTimes::Once);
    let outcome = world
        .payments
        .refund(&paid, "5.00".parse::<Price>().unwrap(), "refund-1")
        .await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "{outcome:?}"
    );
    assert_eq!(world.sandbox.order(&aoid).unwrap().refunded_fen, 500);

    // A payment the shop was never told of, and one XorPay holds as fee_error.
    let lost = world.pending("op-b", "12.50").await;
    world.sandbox.pay(&lost).await.unwrap();
    let short = world.pending("op-c", "9.90").await;
    world.sandbox.pay_fee_short(&short).await.unwrap();

    // One reconciliation pass records the payment and reports the fee_error.
    let report: serde_json::Value =
        serde_json::from_str(&stdout(&world.operator(&["reconcile", "--json"]))).unwrap();
    assert_eq!(report["paid"], serde_json::json!(["op-b"]), "{report}");
    assert_eq!(report["fee_error"], serde_json::json!(["op-c"]), "{report}");
    assert!(matches!(
        world.payments.order("op-b").await.unwrap(),
        Some(StoredOrder::Paid(_))
    ));

    // The orders needing a person, each with what to do.
    let attention = stdout(&world.operator(&["orders", "--attention"]));
    assert!(
        attention.contains(
            "op-a  paid  18.00  refund \"refund-1\" of 5.00 is in doubt: XorPay's answer did not come\n    \
             do: look for it on XorPay's dashboard, then `refund resolve op-a refund-1 --made` or `--not-made`"
        ),
        "{attention}"
    );
    assert!(
        attention.contains("op-c  pending  9.90  XorPay holds it as fee_error"),
        "{attention}"
    );
    let in_doubt: serde_json::Value = serde_json::from_str(&stdout(&world.operator(&[
        "orders",
        "--in-doubt",
        "--json",
    ])))
    .unwrap();
    let rows = in_doubt.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{in_doubt}");
    assert_eq!(rows[0]["order_id"], "op-a");
    assert_eq!(rows[0]["refund_key"], "refund-1");
    assert_eq!(rows[0]["refund_amount"], "5.00");

    // Resolved as the dashboard (the sandbox's books) shows it: the store then agrees.
    let resolved = stdout(&world.operator(&["refund", "resolve", "op-a", "refund-1", "--made"]));
    assert_eq!(
        resolved,
        "refund \"refund-1\" of order op-a (5.00) resolved as made\n"
    );
    let Some(StoredOrder::Paid(paid)) = world.payments.order("op-a").await.unwrap() else {
        panic!("op-a is not paid")
    };
    assert_eq!(paid.refund_in_doubt(), None);
    let made: Vec<_> = paid
        .refunds()
        .iter()
        .filter(|refund| refund.state() == RefundState::Made)
        .map(|refund| refund.amount().fen())
        .collect();
    let sandbox_refunds: Vec<u64> = world
        .sandbox
        .order(&aoid)
        .unwrap()
        .refunds
        .iter()
        .map(|refund| refund.fen)
        .collect();
    assert_eq!(made, sandbox_refunds, "the store and XorPay's books agree");
    assert_eq!(
        stdout(&world.operator(&["orders", "--in-doubt"])),
        "no order needs attention\n"
    );

    // Resolving it again is refused with a one-line error; a usage error says so.
    let again = world.operator(&["refund", "resolve", "op-a", "refund-1", "--not-made"]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.starts_with("error: ") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let usage = world.operator(&["refund", "resolve", "op-a", "refund-1"]);
    assert_eq!(usage.status.code(), Some(2));
}
