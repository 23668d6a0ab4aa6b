//! The demo shop's operator binary: `cargo run --example shop_operator -- --help`.
//!
//! The store operations a person runs, on the shop's own database and order type, mounted in
//! a few lines with `xorpay::cli::Command` (feature `cli`):
//!
//! ```text
//! shop_operator orders --attention          what needs a person, and what to do
//! shop_operator orders --in-doubt           refunds whose outcome is unknown
//! shop_operator refund resolve ID KEY --made|--not-made
//! shop_operator reconcile                   one reconciliation pass
//! ```
//!
//! It reads the shop's settings: `SHOP_DATABASE_URL` (default `sqlite://shop.sqlite`),
//! `SHOP_PUBLIC_URL` (the shop's notify URL is under it), and `XORPAY_AID`,
//! `XORPAY_APP_SECRET` and `XORPAY_BASE_URL` (default `https://xorpay.com`). Against the
//! demo's own sandbox, give the address the shop printed, aid `1000` and the sandbox secret
//! the shop's `main.rs` sets.

// The shop's own order type (reconciliation re-signs it); its accessors serve the shop's
// pages, not this binary.
#[path = "shop/order.rs"]
#[allow(dead_code)]
mod order;

use std::process::ExitCode;

use xorpay::prelude::*;
use xorpay::store::AnyStore;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    // First, so that --help and a mistyped command need no settings.
    let command = xorpay::cli::Command::parse();
    let (Some(aid), Some(secret), Some(public_url)) = (
        env("XORPAY_AID"),
        env("XORPAY_APP_SECRET"),
        env("SHOP_PUBLIC_URL"),
    ) else {
        return Err("set XORPAY_AID, XORPAY_APP_SECRET and SHOP_PUBLIC_URL as for the shop".into());
    };
    let database_url =
        env("SHOP_DATABASE_URL").unwrap_or_else(|| "sqlite://shop.sqlite".to_owned());
    let base_url = env("XORPAY_BASE_URL").unwrap_or_else(|| "https://xorpay.com".to_owned());
    // The shop's service, without its background work: the command is all this process does.
    let payments: Payments<order::ShopOrder> = Payments::builder()
        .aid(aid)
        .secret(secret)
        .notify_url(format!(
            "{}/xorpay/notify",
            public_url.trim_end_matches('/')
        ))
        .base_url(base_url.as_str())
        .store(AnyStore::open(&database_url).await?)
        .no_background()
        .build()?;
    Ok(command.run(&payments).await)
}
