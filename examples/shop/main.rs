//! The demo shop: `cargo run --example shop`.
//!
//! By default it starts a local XorPay (xorpay-sandbox) in the same process, keeps its orders
//! in `shop.sqlite`, listens on 127.0.0.1:8080 and prints its URL. Open it and buy something:
//! a computer gets a WeChat QR code (pay it with the sandbox's stand-in for the phone, linked
//! from the page), WeChat's browser the JSAPI page (pay in the sandbox's `WeixinJSBridge`
//! stand-in), a phone's browser elsewhere an Alipay link. Watch the order page turn to paid
//! when the signed notification has been verified and stored.
//!
//! Environment:
//! - `SHOP_ADDR` (default `127.0.0.1:8080`; port 0 picks a free one), `SHOP_PUBLIC_URL`
//!   (default `http://SHOP_ADDR`: where browsers and XorPay reach the shop).
//! - `SHOP_DATABASE_URL` (default `sqlite://shop.sqlite`): where orders and deliveries are
//!   kept, a SQLite file for one instance, or `postgres://…` or `mysql://…` so that several
//!   instances of the shop can serve one address.
//! - `XORPAY_AID`, `XORPAY_APP_SECRET` and a public `SHOP_PUBLIC_URL` (required then: XorPay
//!   must reach the notify route): talk to XorPay (`XORPAY_BASE_URL`, default
//!   `https://xorpay.com`) instead of the sandbox. The admin pages and `/metrics` then
//!   answer only with `?token=` (or, for `/metrics`, `Authorization: Bearer`) set to
//!   `SHOP_ADMIN_TOKEN`, and are off without it. With the sandbox they are open unless
//!   `SHOP_ADMIN_TOKEN` is set.
//! - `/metrics`: xorpay's metrics (docs/metrics.md) in Prometheus' text format.
//! - `SANDBOX_RETRY_UNIT_MS` (default 1000): the sandbox's notification retry unit. The
//!   sandbox keeps its orders beside the shop's SQLite file, with the extension
//!   `.sandbox.json` (in `shop.sandbox.json` when the shop's database is a server), so that a
//!   restart loses nothing on either side.
//! - `SHOP_ORDER_LIFETIME_SECS`: how long payers have to pay (default: XorPay's two hours).
//! - `SHOP_SWEEP_SECS` (default 30): how often reconciliation and deliveries run (they also
//!   run at once after each payment); `SHOP_HOOK_LEASE_SECS` (default 300): how long an
//!   instance's claim on a delivery lasts before another instance may take it over.
//! - `SHOP_CRASH_AFTER_CONFIRM=1`: a test hook (debug builds only), abort after the store's
//!   write of a new payment and before answering XorPay.
//! - Logging is at `info` (`RUST_LOG` is not read): refused notifications are logged.

mod admin;
mod app;
mod catalog;
mod deliveries;
mod html;
mod metrics;
mod order;
mod pages;
mod pay;
mod state;

use std::time::Duration;

use xorpay::prelude::*;
use xorpay::store::AnyStore;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// A number of seconds from the environment, or `default`.
fn seconds(name: &str, default: u64) -> u64 {
    env(name).and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Refused notifications and failed calls are logged by xorpay's tracing spans.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let real = env("XORPAY_AID").is_some() && env("XORPAY_APP_SECRET").is_some();
    if real && env("SHOP_PUBLIC_URL").is_none() {
        return Err(
            "talking to XorPay needs SHOP_PUBLIC_URL: the address XorPay posts \
                    notifications to"
                .into(),
        );
    }
    let addr = env("SHOP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    let public_url = env("SHOP_PUBLIC_URL")
        .unwrap_or_else(|| format!("http://{local}"))
        .trim_end_matches('/')
        .to_owned();
    let database_url =
        env("SHOP_DATABASE_URL").unwrap_or_else(|| "sqlite://shop.sqlite".to_owned());

    // XorPay itself when credentials are given; otherwise a sandbox in this process.
    let (sandbox, aid, secret, base_url, bridge) =
        match (env("XORPAY_AID"), env("XORPAY_APP_SECRET")) {
            (Some(aid), Some(secret)) => {
                let base =
                    env("XORPAY_BASE_URL").unwrap_or_else(|| "https://xorpay.com".to_owned());
                (None, aid, secret, base, state::Bridge::WeChat)
            }
            _ => {
                let unit = env("SANDBOX_RETRY_UNIT_MS")
                    .and_then(|ms| ms.parse().ok())
                    .unwrap_or(1000);
                let state = match database_url.strip_prefix("sqlite://") {
                    Some(file) => std::path::Path::new(file).with_extension("sandbox.json"),
                    None => "shop.sandbox.json".into(),
                };
                // A fixed secret for the local sandbox: the pay parameters the shop stored
                // were signed with it, and must still verify after a restart.
                let sandbox = xorpay_sandbox::Sandbox::builder()
                    .secret("5e1f0c0ffee5e1f0c0ffee5e1f0c0ffe")
                    .retry_unit(Duration::from_millis(unit))
                    .state_file(state)
                    .build()
                    .start()
                    .await?;
                let (aid, secret, base) = (
                    sandbox.aid().to_owned(),
                    sandbox.secret().to_owned(),
                    sandbox.base_url().to_owned(),
                );
                let bridge = state::Bridge::SandboxStandIn {
                    sandbox_url: base.clone(),
                };
                (Some(sandbox), aid, secret, base, bridge)
            }
        };

    // Before the service is built: it describes its metrics to the recorder.
    let metrics = metrics::recorder();
    // The store is the one the URL names; the deliveries go in the same database.
    let store = AnyStore::open(&database_url).await?;
    let deliveries = deliveries::Deliveries::open(&database_url).await?;
    // Reconciliation and deliveries run in the service's background: every
    // SHOP_SWEEP_SECS, at once after each payment, and at start (paid orders a crash left
    // undelivered are delivered on the first round).
    let payments = Payments::builder()
        .aid(aid)
        .secret(secret)
        .notify_url(format!("{public_url}/xorpay/notify"))
        .base_url(base_url.as_str())
        .store(store)
        .hook(deliveries.clone())
        .hook_lease(Duration::from_secs(seconds("SHOP_HOOK_LEASE_SECS", 300)))
        .sweep_every(Duration::from_secs(seconds("SHOP_SWEEP_SECS", 30)))
        .build()?;
    // The demo's admin is open on loopback; against XorPay it needs a token, and without one
    // it is off (a token nobody knows).
    let admin_token = match (real, env("SHOP_ADMIN_TOKEN")) {
        (_, Some(token)) => Some(token),
        (false, None) => None,
        (true, None) => Some(uuid::Uuid::new_v4().simple().to_string()),
    };
    let shop = state::Shop::new(
        state::ShopConfig {
            payments,
            public_url: public_url.clone(),
            bridge,
            admin_token,
            crash_after_confirm: env("SHOP_CRASH_AFTER_CONFIRM").is_some(),
            order_lifetime: env("SHOP_ORDER_LIFETIME_SECS").and_then(|s| s.parse().ok()),
            metrics,
        },
        deliveries,
    );

    match &sandbox {
        Some(sandbox) => println!("XorPay sandbox at {}", sandbox.base_url()),
        None => println!("talking to XorPay at {base_url}"),
    }
    // The scheme only: a server's URL holds its password.
    let scheme = database_url
        .split_once(':')
        .map_or("", |(scheme, _)| scheme);
    println!("orders in a {scheme} database");
    println!("listening on {public_url}");
    println!("open {public_url}/ to buy something, {public_url}/admin to see the orders");
    // Ctrl-C stops taking requests; then the delivery in flight, if any, finishes and is
    // recorded before the process exits.
    axum::serve(listener, app::router(shop.clone()))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    shop.payments().shutdown().await;
    drop(sandbox);
    Ok(())
}
