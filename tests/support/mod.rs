//! The demo shop, running in this test process against an in-process sandbox, plus what the
//! shop tests share: creating an order the way a browser does, and notifications signed as
//! XorPay would sign them.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use xorpay::form::FormBody;
use xorpay::prelude::*;
use xorpay::sign::{self, NotifyFields};
use xorpay_sandbox::Sandbox;

#[path = "../../examples/shop/admin.rs"]
pub(crate) mod admin;
#[path = "../../examples/shop/app.rs"]
pub(crate) mod app;
#[path = "../../examples/shop/catalog.rs"]
pub(crate) mod catalog;
#[path = "../../examples/shop/deliveries.rs"]
pub(crate) mod deliveries;
#[path = "../../examples/shop/html.rs"]
pub(crate) mod html;
#[path = "../../examples/shop/pages.rs"]
pub(crate) mod pages;
pub(crate) mod postgres;
pub(crate) mod receiver;
pub(crate) mod world;

pub(crate) const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// How long the in-process shop's requests to XorPay may take.
pub(crate) const SHOP_TIMEOUT: Duration = Duration::from_secs(1);

/// A running shop and its sandbox.
pub(crate) struct Running {
    pub(crate) sandbox: Sandbox,
    pub(crate) shop: app::Shop,
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
    pub(crate) db: tempdir::Dir,
    server: tokio::task::JoinHandle<()>,
}

/// A temporary directory, removed on drop.
pub(crate) mod tempdir {
    use std::path::{Path, PathBuf};

    pub(crate) struct Dir(PathBuf);

    impl Dir {
        pub(crate) fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "xorpay-{name}-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub(crate) fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub(crate) async fn sandbox(retry_unit: Duration) -> Sandbox {
    Sandbox::builder()
        .secret(SECRET)
        .retry_unit(retry_unit)
        .build()
        .start()
        .await
        .unwrap()
}

/// Starts the shop on a free loopback port, talking to `sandbox`.
pub(crate) async fn start_shop(sandbox: Sandbox, bridge: Option<app::Bridge>) -> Running {
    ShopSetup::new(sandbox).bridge(bridge).start().await
}

/// How a test shop is started: its sandbox, and optionally where (address, database) and
/// how long its orders may be paid.
pub(crate) struct ShopSetup {
    sandbox: Sandbox,
    bridge: Option<app::Bridge>,
    db: Option<tempdir::Dir>,
    addr: Option<SocketAddr>,
    lifetime: Option<u32>,
    admin_token: Option<String>,
}

impl ShopSetup {
    pub(crate) fn new(sandbox: Sandbox) -> ShopSetup {
        ShopSetup {
            sandbox,
            bridge: None,
            db: None,
            addr: None,
            lifetime: None,
            admin_token: None,
        }
    }

    /// The admin pages answer only with `?token=` set to this.
    pub(crate) fn admin_token(mut self, token: &str) -> ShopSetup {
        self.admin_token = Some(token.to_owned());
        self
    }

    pub(crate) fn bridge(mut self, bridge: Option<app::Bridge>) -> ShopSetup {
        self.bridge = bridge;
        self
    }

    /// The shop's database directory and address of an earlier run: a restart.
    pub(crate) fn again(mut self, db: tempdir::Dir, addr: SocketAddr) -> ShopSetup {
        self.db = Some(db);
        self.addr = Some(addr);
        self
    }

    /// Orders may be paid for this many seconds.
    pub(crate) fn lifetime(mut self, seconds: u32) -> ShopSetup {
        self.lifetime = Some(seconds);
        self
    }

    pub(crate) async fn start(self) -> Running {
        let ShopSetup {
            sandbox,
            bridge,
            db,
            addr,
            lifetime,
            admin_token,
        } = self;
        let db = db.unwrap_or_else(|| tempdir::Dir::new("shop"));
        let file = db.path().join("shop.sqlite");
        let bind = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let bridge = bridge.unwrap_or_else(|| app::Bridge::SandboxStandIn {
            sandbox_url: sandbox.base_url().to_owned(),
        });
        let deliveries = deliveries::Deliveries::sqlite(&file).unwrap();
        // Reconciliation and deliveries in the background, as `main.rs` runs them (every
        // second here).
        let payments = Payments::builder()
            .aid(sandbox.aid())
            .secret(SECRET)
            .notify_url(format!("{url}/xorpay/notify"))
            .base_url(sandbox.base_url())
            .timeout(SHOP_TIMEOUT)
            .refund_resolve_after(SHOP_TIMEOUT * 3)
            .store(SqliteStore::open(&file).unwrap())
            .fulfil(deliveries.clone())
            .sweep_every(Duration::from_secs(1))
            .build()
            .unwrap();
        let shop = app::Shop::new(
            app::ShopConfig {
                payments,
                public_url: url.clone(),
                bridge,
                admin_token,
                crash_after_confirm: false,
                order_lifetime: lifetime,
            },
            deliveries,
        );
        let router = app::router(shop.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Running {
            sandbox,
            shop,
            url,
            addr,
            db,
            server,
        }
    }
}

impl Running {
    /// Stops the shop (its server and background task) and its sandbox, keeping the
    /// database: what a restart starts from.
    pub(crate) async fn stop(self) -> (tempdir::Dir, SocketAddr) {
        self.server.abort();
        let _ = self.server.await;
        self.shop.payments().shutdown().await;
        self.sandbox.shutdown().await;
        (self.db, self.addr)
    }
}

/// Buys `product` the way a browser does (following the openid redirect through the
/// sandbox) and returns the new order's number.
pub(crate) async fn buy(shop_url: &str, product: &str) -> String {
    let browser = reqwest::Client::new();
    let landed = browser
        .get(format!("{shop_url}/buy/{product}"))
        .send()
        .await
        .unwrap();
    assert_eq!(landed.status(), 200, "{}", landed.url());
    let path = landed.url().path().to_owned();
    let id = path
        .strip_prefix("/orders/")
        .and_then(|rest| rest.strip_suffix("/pay"))
        .unwrap_or_else(|| panic!("landed on {path}, not a pay page"));
    id.to_owned()
}

/// A notification body signed with the merchant's secret, as XorPay posts it.
pub(crate) fn signed_notification(aoid: &str, order_id: &str, pay_price: &str) -> String {
    signed_notification_with(aoid, order_id, pay_price, SECRET)
}

/// A notification body signed with `secret`.
pub(crate) fn signed_notification_with(
    aoid: &str,
    order_id: &str,
    pay_price: &str,
    secret: &str,
) -> String {
    signed(aoid, order_id, pay_price, "2026-11-27 21:03:59", secret)
}

/// A notification body with this `pay_time`, signed with the merchant's secret.
pub(crate) fn signed_notification_at(
    aoid: &str,
    order_id: &str,
    pay_price: &str,
    pay_time: &str,
) -> String {
    signed(aoid, order_id, pay_price, pay_time, SECRET)
}

fn signed(aoid: &str, order_id: &str, pay_price: &str, pay_time: &str, secret: &str) -> String {
    let fields = NotifyFields {
        aoid,
        order_id,
        pay_price,
        pay_time,
    };
    let signature = sign::notify(&fields, &AppSecret::new(secret).unwrap());
    let mut body = FormBody::new();
    body.pair("aoid", aoid)
        .pair("order_id", order_id)
        .pair("pay_price", pay_price)
        .pair("pay_time", fields.pay_time)
        .pair("more", "")
        .pair("detail", "{}")
        .pair("sign", signature.as_str());
    body.into_string()
}

/// An example binary that `cargo test` built beside this test.
pub(crate) fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

/// Everything a tracing `fmt` subscriber writes, for tests that read the logs.
#[derive(Clone, Default)]
pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// What was written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Polls `check` until it holds or 20 s pass.
pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Waits until the shop has delivered the order (it does so in the background, after
/// answering XorPay), then checks it delivered it once.
pub(crate) async fn delivered_once(shop: &app::Shop, order_id: &str) {
    eventually("the delivery", async || {
        shop.deliveries_of(order_id).await == 1
    })
    .await;
    assert_eq!(
        shop.delivery_runs(order_id).await,
        1,
        "{order_id} delivered twice"
    );
}
