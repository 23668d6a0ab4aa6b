//! The demo shop, running in the test process against an in-process sandbox, and what its
//! tests share: starting and restarting it, and buying the way a browser does. Only the
//! shop's tests declare this module, so only they compile the shop.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use xorpay::prelude::*;
use xorpay_sandbox::Sandbox;

use crate::support::{SECRET, TempDir, eventually};

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
#[path = "../../examples/shop/metrics.rs"]
pub(crate) mod metrics;
#[path = "../../examples/shop/order.rs"]
pub(crate) mod order;
#[path = "../../examples/shop/pages.rs"]
pub(crate) mod pages;
#[path = "../../examples/shop/pay.rs"]
pub(crate) mod pay;
#[path = "../../examples/shop/state.rs"]
pub(crate) mod state;

/// How long the in-process shop's requests to XorPay may take.
pub(crate) const SHOP_TIMEOUT: Duration = Duration::from_secs(1);

/// A running shop and its sandbox.
pub(crate) struct Running {
    pub(crate) sandbox: Sandbox,
    pub(crate) shop: state::Shop,
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
    pub(crate) db: TempDir,
    server: tokio::task::JoinHandle<()>,
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
pub(crate) async fn start_shop(sandbox: Sandbox, bridge: Option<state::Bridge>) -> Running {
    ShopSetup::new(sandbox).bridge(bridge).start().await
}

/// How a test shop is started: its sandbox, and optionally where (address, database) and
/// how long its orders may be paid.
pub(crate) struct ShopSetup {
    sandbox: Sandbox,
    bridge: Option<state::Bridge>,
    db: Option<TempDir>,
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

    pub(crate) fn bridge(mut self, bridge: Option<state::Bridge>) -> ShopSetup {
        self.bridge = bridge;
        self
    }

    /// The shop's database directory and address of an earlier run: a restart.
    pub(crate) fn again(mut self, db: TempDir, addr: SocketAddr) -> ShopSetup {
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
        let db = db.unwrap_or_else(|| TempDir::new("shop"));
        let file = db.path().join("shop.sqlite");
        let bind = addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(bind).await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let url = format!("http://{addr}");
        let bridge = bridge.unwrap_or_else(|| state::Bridge::SandboxStandIn {
            sandbox_url: sandbox.base_url().to_owned(),
        });
        let deliveries = deliveries::Deliveries::sqlite(&file).unwrap();
        let metrics = metrics::recorder();
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
            .hook(deliveries.clone())
            .sweep_every(Duration::from_secs(1))
            .build()
            .unwrap();
        let shop = state::Shop::new(
            state::ShopConfig {
                payments,
                public_url: url.clone(),
                bridge,
                admin_token,
                crash_after_confirm: false,
                order_lifetime: lifetime,
                metrics,
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
    pub(crate) async fn stop(self) -> (TempDir, SocketAddr) {
        self.server.abort();
        let _ = self.server.await;
        self.shop.payments().shutdown().await;
        self.sandbox.shutdown().await;
        (self.db, self.addr)
    }
}

/// WeChat's in-app browser on an iPhone, as it names itself.
pub(crate) const IN_WECHAT: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
    AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47";

/// Chrome on a Windows computer, as it names itself.
pub(crate) const ON_A_COMPUTER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
    AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Buys `product` the way WeChat's browser does (following the openid redirect through the
/// sandbox) and returns the new order's number.
pub(crate) async fn buy(shop_url: &str, product: &str) -> String {
    buy_in(shop_url, product, IN_WECHAT).await
}

/// Buys `product` from a browser that names itself `user_agent`, and returns the new order's
/// number from the pay page it lands on.
pub(crate) async fn buy_in(shop_url: &str, product: &str, user_agent: &str) -> String {
    let browser = reqwest::Client::builder()
        .user_agent(user_agent)
        .build()
        .unwrap();
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

/// Waits until the shop has delivered the order (it does so in the background, after
/// answering XorPay), then checks it delivered it once.
pub(crate) async fn delivered_once(shop: &state::Shop, order_id: &str) {
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
