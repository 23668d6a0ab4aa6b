//! A complete payment server: takes one order, serves XorPay's notifications, ships what is
//! paid. Start a local XorPay, then this (two terminals):
//!
//!     cargo run -p xorpay-sandbox -- --aid 1000 --secret 0123456789abcdef0123456789abcdef
//!     cargo run --example notify_server
//!
//! It listens on 127.0.0.1:3000 (set LISTEN to change it) and prints the `curl` that makes
//! the sandbox's payer pay; the notification then arrives and the order is shipped. Against
//! XorPay itself, set XORPAY_AID, XORPAY_APP_SECRET and PUBLIC_URL (where XorPay reaches this
//! server); XORPAY_BASE_URL then defaults to XorPay's own.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use xorpay::order::{Order, Paid};
use xorpay::prelude::*;

/// Your own order type: the derive maps its fields to XorPay's and fixes the signature order.
#[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

/// Your fulfilment. It runs at least once per paid order (twice only if the process dies
/// between running it and recording it), so it must be idempotent, keyed by the order number.
struct Ship;

impl Fulfil<Coffee> for Ship {
    async fn fulfil(&self, order: &Order<Coffee, Paid>) -> Result<(), FulfilError> {
        tracing::info!(order_id = order.order_id(), "paid: shipping");
        println!("shipped {}", order.order_id());
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // xorpay logs every call to XorPay and every refused notification (never the secret).
    tracing_subscriber::fmt().init();
    let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let setting = |name: &str, default: &str| env(name).unwrap_or(default.to_owned());
    // The sandbox's settings unless a secret is given: then XorPay's own.
    let real = env("XORPAY_APP_SECRET").is_some();
    let xorpay = if real {
        xorpay::client::XORPAY_BASE_URL
    } else {
        "http://127.0.0.1:8899"
    };
    let base_url = setting("XORPAY_BASE_URL", xorpay);
    let aid = setting("XORPAY_AID", "1000");
    let secret = setting("XORPAY_APP_SECRET", "0123456789abcdef0123456789abcdef");
    let listener = tokio::net::TcpListener::bind(setting("LISTEN", "127.0.0.1:3000")).await?;
    let public_url = setting("PUBLIC_URL", &format!("http://{}", listener.local_addr()?));

    // One service per merchant: it owns every step that moves money.
    let payments: Payments<Coffee, SqliteStore> = Payments::builder()
        .aid(Aid::new(aid)?)
        .secret(AppSecret::new(secret)?)
        .notify_url(format!("{public_url}/xorpay/notify"))
        .base_url(base_url.as_str())
        .store(SqliteStore::open("notify_server.sqlite")?)
        .build()?;

    // XorPay posts here: verified, recorded durably, and only then answered `ok`.
    let app = axum::Router::new().route("/xorpay/notify", payments.notify_route());
    // Reconciliation (asking XorPay about orders whose fate the store cannot know) and
    // fulfilment: every 30 seconds, and at once after each payment. The task runs while the
    // handle lives: `let _ = …` would stop it at once.
    let _background = payments.run_in_background(Ship, Duration::from_secs(30));

    // A notification pays only an order the service checked out: stored, sent, recorded
    // pending. For any other order the route answers 409, and XorPay tries again later.
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let order = Coffee {
        id: format!("coffee-{now}"),
        name: "拿铁 Latte".into(),
        price: "0.01".parse()?,
    };
    match payments.checkout(order).await? {
        Checkout::Pending(pending) => {
            println!(
                "order {} waits: QR {}",
                pending.order_id(),
                pending.qr().unwrap_or("-")
            );
            if let Some(aoid) = pending.aoid() {
                println!(
                    "pay it in the sandbox: curl -X POST {base_url}/_sandbox/orders/{aoid}/pay"
                );
            }
        }
        Checkout::Paid(paid) => println!("order {} is paid already", paid.order_id()),
        Checkout::Cashier(pending, _) => {
            println!("order {} is a cashier order", pending.order_id())
        }
    }

    println!("notify server on {public_url}/xorpay/notify");
    axum::serve(listener, app).await?;
    Ok(())
}
