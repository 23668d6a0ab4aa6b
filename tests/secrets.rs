//! The secrets audit: the whole flow (checkout, notification, refunds, reconciliation, a secret
//! rotation, every route fault, refused notifications, a wrong secret, the shop's admin, a
//! database with a wrong password) with every crate's tracing at TRACE, and the `Debug` and
//! `Display` of every error kept. Neither the app secret (current or previous), nor any
//! request's signature, nor the admin token, nor the database password appear anywhere in
//! them. (The cashier URL and the JSAPI `paySign` go to browsers by design; no order here has
//! either.)

mod demo_shop;
mod support;

use std::time::Duration;

use demo_shop::{ShopSetup, sandbox};
use serde::{Deserialize, Serialize};
use support::world::World;
use support::{Captured, SECRET};
use xorpay::prelude::*;
use xorpay::sign;
use xorpay_sandbox::{FaultTimes, Route, RouteFault};

const NEXT: &str = "fedcba9876543210fedcba9876543210";
const ADMIN_TOKEN: &str = "admin-token-4d1b9e0c7a";
const DB_PASSWORD: &str = "db-password-93f0a7c2e1";

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
        total: total.parse().unwrap(),
    }
}

/// The texts to audit: the log, and each error as `Debug` and `Display`.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    fn error(&mut self, error: &(impl std::fmt::Debug + std::fmt::Display)) {
        self.0.push(format!("{error:?}"));
        self.0.push(error.to_string());
    }

    fn result<T, E: std::fmt::Debug + std::fmt::Display>(&mut self, result: &Result<T, E>) {
        if let Err(error) = result {
            self.error(error);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_signature_reaches_a_log_or_an_error() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let mut seen = Seen::default();
    let mut orders: Vec<Tea> = Vec::new();
    let mut refunds: Vec<Price> = Vec::new();

    // The service's whole flow, with every route fault on the way.
    let world = World::<Tea>::new().await;
    let payments = world.payments();
    orders.push(tea("audit-1", "9.00"));
    seen.result(&payments.checkout(tea("audit-1", "9.00")).await);
    world.pay("audit-1").await;
    world.wait_stored("audit-1", "paid").await;
    for (n, fault) in [
        RouteFault::Http500,
        RouteFault::HtmlError,
        RouteFault::DropConnection,
        RouteFault::AnswerLost,
        RouteFault::answer_late(Duration::from_millis(800)),
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("audit-fault-{n}");
        world
            .sandbox
            .inject_route_fault(Route::Pay, fault, FaultTimes::Once);
        orders.push(tea(&id, "2.00"));
        seen.result(&world.payments().checkout(tea(&id, "2.00")).await);
        let amount: Price = format!("0.{}0", n + 1).parse().unwrap();
        refunds.push(amount);
        world
            .sandbox
            .inject_route_fault(Route::Refund, fault, FaultTimes::Once);
        let refund = world.refund("audit-1", amount, &format!("r-{n}")).await;
        if let Err(xorpay::RefundError::InDoubt {
            error: Some(error), ..
        }) = &refund
        {
            seen.error(error);
        }
        seen.result(&refund);
        world
            .sandbox
            .inject_route_fault(Route::Query2, fault, FaultTimes::Once);
        world.clock.advance(xorpay::time::Duration::minutes(5));
        seen.result(&world.payments().reconcile().await);
    }
    seen.result(&world.resolve_refund("audit-1", "r-3", true).await);
    // A forged notification, and one for an order nobody stored.
    let forged = xorpay_testkit::notification(&world.aoid("audit-1"), "audit-1", "9.00", "x");
    seen.result(&world.payments().confirm(forged.as_bytes()).await);
    let unknown = support::signed_notification(&world.aoid("audit-1"), "nobody", "9.00");
    seen.result(&world.payments().confirm(unknown.as_bytes()).await);
    // A rotation: notifications signed with the previous secret, within its window.
    world.sandbox.rotate_secret(NEXT);
    world.restart_with(Some((NEXT, Some((SECRET, world.clock.now())))));
    orders.push(tea("audit-rotated", "3.00"));
    seen.result(
        &world
            .payments()
            .checkout(tea("audit-rotated", "3.00"))
            .await,
    );
    world.pay("audit-rotated").await;
    world.wait_stored("audit-rotated", "paid").await;
    // A service still on the old secret: XorPay answers sign_error.
    let wrong = world.another(SqliteStore::in_memory().unwrap(), world.hook.clone());
    orders.push(tea("audit-wrong", "1.00"));
    seen.result(&wrong.checkout(tea("audit-wrong", "1.00")).await);
    seen.result(&wrong.client().query2("audit-1").await);

    // The shop's admin, behind its token.
    let running = ShopSetup::new(sandbox(Duration::from_millis(20)).await)
        .admin_token(ADMIN_TOKEN)
        .start()
        .await;
    let http = reqwest::Client::new();
    for query in ["", "?token=wrong", &format!("?token={ADMIN_TOKEN}")] {
        let _ = http
            .get(format!("{}/admin{query}", running.url))
            .send()
            .await
            .unwrap();
    }

    // A database with a wrong password.
    if let Some(url) = support::postgres::url() {
        let wrong = with_password(&url, DB_PASSWORD);
        let refused = xorpay::store::PgStore::connect(&wrong).await;
        assert!(refused.is_err(), "the wrong password was accepted");
        seen.result(&refused);
    }
    if let Some(url) = support::mysql::url() {
        let wrong = with_password(&url, DB_PASSWORD);
        let refused = xorpay::store::MySqlStore::connect(&wrong).await;
        assert!(refused.is_err(), "the wrong password was accepted");
        seen.result(&refused);
        // A store that connected prints no password either.
        let store = xorpay::store::MySqlStore::connect(&url).await.unwrap();
        seen.0.push(format!("{store:?}"));
        let any = xorpay::store::AnyStore::open(&wrong).await;
        assert!(any.is_err(), "the wrong password was accepted");
        seen.result(&any);
    }

    // What must never appear.
    let mut forbidden: Vec<String> = vec![
        SECRET.into(),
        NEXT.into(),
        ADMIN_TOKEN.into(),
        DB_PASSWORD.into(),
    ];
    for secret in [SECRET, NEXT] {
        let secret = AppSecret::new(secret).unwrap();
        for order in &orders {
            let signed = order.with_notify_url(&world.notify_url);
            forbidden.push(signed.signature(&secret).unwrap().as_str().to_owned());
            forbidden.push(sign::query2(&order.id, &secret).as_str().to_owned());
        }
        for amount in &refunds {
            forbidden.push(sign::refund(*amount, &secret).as_str().to_owned());
        }
    }
    for url in [support::postgres::url(), support::mysql::url()]
        .into_iter()
        .flatten()
    {
        forbidden.extend(password_of(&url));
    }

    let log = log.text();
    // Each recorded payment is one INFO line with its order number, aoid and amount (and,
    // checked below with everything else, no secret).
    let recorded = format!(
        "payment recorded order_id=\"audit-1\" aoid=\"{}\" amount=9.00",
        world.aoid("audit-1")
    );
    let line = log
        .lines()
        .find(|line| line.contains("payment recorded") && line.contains("\"audit-1\""))
        .unwrap_or_else(|| panic!("no INFO line recorded audit-1's payment"));
    assert!(line.contains(" INFO "), "{line}");
    assert!(line.ends_with(&recorded), "{line}");
    assert!(
        log.lines().count() > 100,
        "the audit saw too little: {} log lines",
        log.lines().count()
    );
    assert!(
        seen.0.len() >= 20,
        "the audit saw {} error texts",
        seen.0.len()
    );
    for text in std::iter::once(&log).chain(&seen.0) {
        for secret in &forbidden {
            if let Some(at) = text.find(secret.as_str()) {
                let start = text[..at]
                    .char_indices()
                    .rev()
                    .nth(80)
                    .map_or(0, |(i, _)| i);
                panic!(
                    "a secret ({}…) appears: …{}…",
                    &secret[..6],
                    &text[start..(at + secret.len()).min(text.len())]
                );
            }
        }
    }
    println!(
        "audited {} log lines and {} error texts against {} secrets",
        log.lines().count(),
        seen.0.len(),
        forbidden.len()
    );
}

/// The URL with its password replaced.
fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, host) = rest.split_once('@').unwrap();
    let user = credentials.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let credentials = rest.split_once('@')?.0;
    credentials
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}
