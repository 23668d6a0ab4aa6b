//! A complete payment server: takes one order, serves XorPay's notifications, ships what is
//! paid, and refunds from a second process. Start a local XorPay, then this (two terminals):
//!
//!     XORPAY_APP_SECRET=0123456789abcdef0123456789abcdef cargo run -p xorpay-cli -- sandbox --aid 1000
//!     cargo run --example notify_server
//!
//! It listens on 127.0.0.1:3000 (set LISTEN to change it) and prints the `curl` that makes
//! the sandbox's payer pay; the notification then arrives and the order is shipped. It also
//! prints the command that refunds the order from a third terminal, a second process on the
//! same store file. Against XorPay itself, set XORPAY_AID, XORPAY_APP_SECRET and PUBLIC_URL
//! (where XorPay reaches this server).

use std::time::{SystemTime, UNIX_EPOCH};

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

/// Your hook: told of each order paid (ship it), expired for good, refunded or not, or
/// needing a person. Idempotent, keyed by the order number (`xorpay::service::guarantees`
/// says why).
struct Ship;

impl Hook<Coffee> for Ship {
    async fn on(&self, event: Event<'_, Coffee>) -> Result<(), HookError> {
        match event {
            Event::Paid(order) => {
                tracing::info!(order_id = order.order_id(), "paid: shipping");
                println!("shipped {}", order.order_id());
            }
            Event::NeedsAttention { order, why } => {
                tracing::warn!(order_id = order.order_id(), %why, "a person must act");
            }
            _ => {}
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // xorpay logs every call to XorPay, every recorded payment and every refused
    // notification (never the secret).
    tracing_subscriber::fmt().init();
    let setting = |name: &str, default: &str| match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => default.to_owned(),
    };
    // The sandbox's settings unless a secret is given: then XorPay's own.
    let secret = setting("XORPAY_APP_SECRET", "");
    let (secret, xorpay) = match secret.is_empty() {
        true => (
            "0123456789abcdef0123456789abcdef".to_owned(),
            "http://127.0.0.1:8899",
        ),
        false => (secret, "https://xorpay.com"),
    };
    let base_url = setting("XORPAY_BASE_URL", xorpay);
    let listen = setting("LISTEN", "127.0.0.1:3000");
    let public_url = setting("PUBLIC_URL", &format!("http://{listen}"));

    // One service per merchant: it owns every step that moves money. A missing setting is a
    // compile error that names it.
    let settings = Payments::builder()
        .aid(setting("XORPAY_AID", "1000"))
        .secret(secret)
        .notify_url(format!("{public_url}/xorpay/notify"))
        .base_url(base_url.as_str())
        .store(SqliteStore::open("notify_server.sqlite")?);

    // Refund mode, a second process on the same store file: `-- refund ORDER AMOUNT KEY`.
    // The key is the refund request's own id: the same key never refunds twice.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, id, amount, key] = args.as_slice()
        && mode == "refund"
    {
        let payments = settings.build()?;
        let Some(StoredOrder::Paid(paid)) = payments.order(id).await? else {
            return Err(format!("order {id} is not paid (yet)").into());
        };
        payments
            .refund(&paid, amount.parse::<Price>()?, key)
            .await?;
        println!("refunded {amount} of order {id}");
        return Ok(());
    }

    // The service runs reconciliation and hands each paid order to `Ship` in the
    // background, every 30 seconds and at once after each payment, for as long as it lives.
    let payments = settings.hook(Ship).build()?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;

    // A notification pays only an order the service checked out: stored, sent, recorded
    // pending.
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let order = Coffee {
        id: format!("coffee-{now}"),
        name: "拿铁 Latte".into(),
        price: "0.01".parse()?,
    };
    let id = order.id.clone();
    match payments.checkout(order).await? {
        Checkout::Pending(pending) => {
            println!("order {id} waits: QR {}", pending.qr().unwrap_or("-"));
            if let Some(aoid) = pending.aoid() {
                println!(
                    "pay it in the sandbox: curl -X POST {base_url}/_sandbox/orders/{aoid}/pay"
                );
            }
        }
        Checkout::Paid(paid) => println!("order {} is paid already", paid.order_id()),
    }
    println!("refund it once paid: cargo run --example notify_server -- refund {id} 0.01 r-{now}");

    // XorPay posts to notify_url's path; see `xorpay::service::guarantees` for its answer.
    println!("notify server on {public_url}/xorpay/notify");
    axum::serve(listener, payments.router()).await?;
    Ok(())
}
