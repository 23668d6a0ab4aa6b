//! The demo shop's web application: a product page, the openid step, checkout, the JSAPI pay
//! page, the notify route, an order page that turns to paid by itself, and (in `admin.rs`) a
//! small admin with refunds. `main.rs` configures and starts it; the tests run it in process.
//!
//! Every step that moves money is the lifecycle service's ([`Payments`]): the shop derives its
//! order struct, builds the service, and calls it. Its fulfilment hook (recording a delivery)
//! is idempotent, keyed by the order number, as the service requires.

// The tests include this file as a module and use only part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use xorpay::CheckoutError;
use xorpay::client::openid_from_callback;
use xorpay::jsapi::BridgeScript;
use xorpay::order::{Order, Paid, StoredOrder};
use xorpay::prelude::*;
use xorpay::service::InBackground;

use super::admin;
use super::html::{error_page, esc, page, page_with_head, path_segment};

/// What the shop sells.
pub(crate) struct Product {
    /// The key in URLs.
    pub(crate) id: &'static str,
    /// The name shown and signed.
    pub(crate) name: &'static str,
    /// The price in fen.
    pub(crate) fen: u64,
}

/// The catalogue.
pub(crate) const CATALOG: [Product; 3] = [
    Product {
        id: "latte",
        name: "拿铁咖啡 Latte",
        fen: 1800,
    },
    Product {
        id: "tea",
        name: "乌龙茶 Oolong tea",
        fen: 1250,
    },
    Product {
        id: "cookie",
        name: "杏仁饼干 Almond cookie",
        fen: 1,
    },
];

fn product(id: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|product| product.id == id)
}

/// One order of the shop, as XorPay sees it.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = jsapi, notify_url = from_client)]
pub(crate) struct ShopOrder {
    /// The shop's order number.
    #[xorpay(order_id)]
    pub(crate) id: String,
    /// The product name.
    #[xorpay(name)]
    pub(crate) title: String,
    /// The amount.
    #[xorpay(price)]
    pub(crate) price: Price,
    /// The payer, from XorPay's openid redirect.
    #[xorpay(openid)]
    pub(crate) openid: String,
    /// The product key, echoed in the notification (unsigned, display only).
    #[xorpay(more)]
    pub(crate) product: String,
}

/// Where the pay page gets `WeixinJSBridge` from.
#[derive(Clone, Debug)]
pub(crate) enum Bridge {
    /// The sandbox's stand-in script (only when the shop talks to the sandbox).
    SandboxStandIn {
        /// The sandbox's base URL.
        sandbox_url: String,
    },
    /// WeChat's own, injected by its in-app browser.
    WeChat,
}

/// Everything the shop needs.
pub(crate) struct ShopConfig {
    /// The lifecycle service: XorPay, the order store, the shop's notify URL.
    pub(crate) payments: Payments<ShopOrder, SqliteStore>,
    /// The shop's public base URL, for the openid callback.
    pub(crate) public_url: String,
    /// Where `WeixinJSBridge` comes from.
    pub(crate) bridge: Bridge,
    /// `None`: the admin pages are open (the demo, on loopback). `Some(token)`: they answer
    /// only requests carrying `?token=…` (the shop talking to XorPay for real).
    pub(crate) admin_token: Option<String>,
    /// Test hook, debug builds only: abort the process after the service recorded a new
    /// payment and before answering XorPay.
    pub(crate) crash_after_confirm: bool,
}

/// The shop, shared by every request.
#[derive(Clone)]
pub(crate) struct Shop {
    inner: Arc<Inner>,
}

struct Inner {
    config: ShopConfig,
    deliveries: Deliveries,
    newly_paid: AtomicUsize,
    /// Put in every admin form and checked on submission: another site cannot make the
    /// admin's browser post a refund.
    pub(crate) csrf: String,
}

/// The shop's fulfilment: a delivery recorded once per order, however often it is asked
/// (the service asks at least once; more only after a crash between delivering and
/// recording it). Every call is counted, for the tests.
#[derive(Clone)]
pub(crate) struct Deliveries(Arc<Mutex<rusqlite::Connection>>);

impl Fulfil<ShopOrder> for Deliveries {
    async fn fulfil(&self, order: &Order<ShopOrder, Paid>) -> Result<(), FulfilError> {
        let connection = Arc::clone(&self.0);
        let id = order.order_id().to_owned();
        let title = order.inner().title.clone();
        tokio::task::spawn_blocking(move || {
            let connection = connection
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let first = connection
                .query_row(
                    "INSERT INTO deliveries (order_id, delivered_unix, runs)
                     VALUES (?1, unixepoch(), 1)
                     ON CONFLICT (order_id) DO UPDATE SET runs = runs + 1
                     RETURNING runs = 1",
                    [&id],
                    |row| row.get::<_, bool>(0),
                )
                .map_err(|e| FulfilError::new(e.to_string()))?;
            if first {
                println!("delivered order {id} ({title})");
            }
            Ok(())
        })
        .await
        .map_err(|e| FulfilError::new(e.to_string()))?
    }
}

impl Shop {
    /// The shop, with its delivery record in `deliveries_db` (the store's file, or any
    /// SQLite file).
    pub(crate) fn new(config: ShopConfig, deliveries_db: &std::path::Path) -> Result<Shop, String> {
        let deliveries = rusqlite::Connection::open(deliveries_db).map_err(|e| e.to_string())?;
        deliveries
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                 PRAGMA busy_timeout = 5000;
                 CREATE TABLE IF NOT EXISTS deliveries (
                     order_id TEXT PRIMARY KEY NOT NULL,
                     delivered_unix INTEGER NOT NULL
                 );",
            )
            .map_err(|e| e.to_string())?;
        // The run count came with the lifecycle service; older files lack it.
        let _ = deliveries.execute(
            "ALTER TABLE deliveries ADD COLUMN runs INTEGER NOT NULL DEFAULT 1",
            [],
        );
        Ok(Shop {
            inner: Arc::new(Inner {
                config,
                deliveries: Deliveries(Arc::new(Mutex::new(deliveries))),
                newly_paid: AtomicUsize::new(0),
                csrf: uuid::Uuid::new_v4().simple().to_string(),
            }),
        })
    }

    pub(crate) fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The lifecycle service.
    pub(crate) fn payments(&self) -> &Payments<ShopOrder, SqliteStore> {
        &self.inner.config.payments
    }

    /// The admin forms' CSRF token.
    pub(crate) fn csrf(&self) -> &str {
        &self.inner.csrf
    }

    /// Reconciles and delivers every `every`, and delivers at once after each payment.
    pub(crate) fn run_in_background(&self, every: std::time::Duration) -> InBackground {
        self.payments()
            .run_in_background(self.inner.deliveries.clone(), every)
    }

    /// Delivers every paid order not delivered yet.
    pub(crate) async fn deliver_outstanding(&self) {
        if let Err(error) = self.payments().fulfil_paid(&self.inner.deliveries).await {
            eprintln!("delivery sweep failed: {error}");
        }
    }

    /// How many notifications paid an order in this process (each order once).
    pub(crate) fn newly_paid(&self) -> usize {
        self.inner.newly_paid.load(Ordering::SeqCst)
    }

    /// How many deliveries are recorded for an order (0 or 1).
    pub(crate) fn deliveries_of(&self, order_id: &str) -> usize {
        usize::from(self.delivery_runs(order_id) > 0)
    }

    /// How often the fulfilment hook ran for an order.
    pub(crate) fn delivery_runs(&self, order_id: &str) -> usize {
        let Ok(connection) = self.inner.deliveries.0.lock() else {
            return 0;
        };
        connection
            .query_row(
                "SELECT COALESCE(SUM(runs), 0) FROM deliveries WHERE order_id = ?1",
                [order_id],
                |row| row.get::<_, i64>(0),
            )
            .map_or(0, |count| usize::try_from(count).unwrap_or(0))
    }

    /// Whether an admin request may proceed.
    pub(crate) fn admin_allowed(&self, query: Option<&str>) -> bool {
        match &self.config().admin_token {
            None => true,
            Some(token) => query
                .and_then(|query| {
                    query
                        .split('&')
                        .find_map(|pair| pair.strip_prefix("token="))
                })
                .is_some_and(|given| given == token),
        }
    }
}

/// The shop's routes.
pub(crate) fn router(shop: Shop) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/buy/{product}", get(buy))
        .route("/checkout/{product}", get(checkout))
        .route("/orders/{id}", get(order_page))
        .route("/orders/{id}/pay", get(pay_page))
        .route("/orders/{id}/status", get(order_status))
        .route("/xorpay/notify", post(notify))
        .merge(admin::router())
        .with_state(shop)
}

async fn index() -> Html<String> {
    let mut items = String::new();
    for product in &CATALOG {
        let price = Price::from_fen(product.fen)
            .map(|p| p.to_string())
            .unwrap_or_default();
        items.push_str(&format!(
            "<li><span class=\"name\">{}</span> <span class=\"price\">¥{price}</span> \
             <a id=\"buy-{id}\" class=\"buy\" href=\"/buy/{id}\">购买 Buy</a></li>",
            esc(product.name),
            id = product.id,
        ));
    }
    Html(page(
        "小店 Demo shop",
        &format!(
            "<p>用微信支付购买。Pay with WeChat Pay (JSAPI).</p><ul class=\"products\">{items}</ul>\
             <p><a href=\"/admin\">订单管理 Admin</a></p>"
        ),
    ))
}

/// Sends the payer through XorPay's openid redirect, which comes back to `/checkout/…`.
async fn buy(State(shop): State<Shop>, Path(product_id): Path<String>) -> Response {
    if product(&product_id).is_none() {
        return error_page(StatusCode::NOT_FOUND, "no such product");
    }
    let callback = format!("{}/checkout/{product_id}", shop.config().public_url);
    match shop.payments().client().openid_url(&callback) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// Back from the openid redirect: the service checks the order out (stores it, sends it,
/// records it pending), then the pay page.
async fn checkout(
    State(shop): State<Shop>,
    Path(product_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(product) = product(&product_id) else {
        return error_page(StatusCode::NOT_FOUND, "no such product");
    };
    let Some(openid) = query.as_deref().and_then(openid_from_callback) else {
        return error_page(StatusCode::BAD_REQUEST, "no openid came back from XorPay");
    };
    let Ok(price) = Price::from_fen(product.fen) else {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "bad catalogue price");
    };
    let id = new_order_id();
    let order = ShopOrder {
        id: id.clone(),
        title: product.name.to_owned(),
        price,
        openid,
        product: product.id.to_owned(),
    };
    let to = |page: &str| Redirect::to(&format!("/orders/{}{page}", path_segment(&id)));
    match shop.payments().checkout(order).await {
        Ok(Checkout::Pending(_) | Checkout::Cashier(..)) => to("/pay").into_response(),
        Ok(Checkout::Paid(_)) => to("").into_response(),
        // XorPay's answer was lost: the order page shows where it stands while it settles.
        Err(CheckoutError::InDoubt(_)) => to("").into_response(),
        Err(error) => error_page(StatusCode::BAD_GATEWAY, &error.to_string()),
    }
}

/// A fresh order number: the time and a random tail.
fn new_order_id() -> String {
    let now = xorpay::time::OffsetDateTime::now_utc();
    let tail = uuid::Uuid::new_v4().simple().to_string();
    format!("shop-{}-{}", now.unix_timestamp(), &tail[..8])
}

pub(crate) async fn load(shop: &Shop, id: &str) -> Result<StoredOrder<ShopOrder>, Response> {
    match shop.payments().order(id).await {
        Ok(Some(order)) => Ok(order),
        Ok(None) => Err(error_page(StatusCode::NOT_FOUND, "no such order")),
        Err(error) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &error.to_string(),
        )),
    }
}

/// The JSAPI pay page: hands the order's six parameters to `WeixinJSBridge`.
async fn pay_page(State(shop): State<Shop>, Path(id): Path<String>) -> Response {
    let stored = match load(&shop, &id).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let StoredOrder::Pending(pending) = stored else {
        return Redirect::to(&format!("/orders/{}", path_segment(&id))).into_response();
    };
    let Some(params) = pending.jsapi_params() else {
        return error_page(StatusCode::CONFLICT, "this order has no JSAPI parameters");
    };
    let result_url = format!("/orders/{}", path_segment(&id));
    let script = match BridgeScript::new(params).result_url(&result_url) {
        Ok(script) => script.to_script_tag(),
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    };
    // The stand-in is the sandbox's; it is never served when the shop talks to XorPay.
    let stand_in = match &shop.config().bridge {
        Bridge::SandboxStandIn { sandbox_url } => format!(
            "<script src=\"{}/_sandbox/jsbridge.js\"></script>",
            esc(sandbox_url)
        ),
        Bridge::WeChat => String::new(),
    };
    let order = pending.inner();
    let body = format!(
        "<h1>{title}</h1><p class=\"amount\">¥<span id=\"amount\">{price}</span></p>\
         <p id=\"hint\">正在调起微信支付… Opening WeChat Pay…</p>\
         <p><a href=\"/orders/{id}\">查看订单 Order status</a></p>{script}\
         <script>document.addEventListener(\"xorpay:jsapi-result\", function (event) {{\
           var hint = document.getElementById(\"hint\");\
           hint.textContent = event.detail.result === \"ok\" ? \"支付完成 Paid, confirming…\" :\
             event.detail.result === \"cancel\" ? \"已取消 Cancelled\" : \"支付失败 Failed\";\
         }});</script>",
        title = esc(&order.title),
        price = order.price,
        id = esc(&id),
    );
    Html(page_with_head("支付 Pay", &stand_in, &body)).into_response()
}

#[derive(Serialize)]
struct Status {
    state: &'static str,
    price: String,
    refunded: Option<String>,
}

/// The order's state, for the order page to poll.
async fn order_status(State(shop): State<Shop>, Path(id): Path<String>) -> Response {
    match load(&shop, &id).await {
        Ok(stored) => {
            let refunded = match &stored {
                StoredOrder::Paid(paid) => paid.refunded().map(|p| p.to_string()),
                _ => None,
            };
            let price = match &stored {
                StoredOrder::Created(o) => o.price(),
                StoredOrder::Pending(o) => o.price(),
                StoredOrder::Paid(o) => o.price(),
                StoredOrder::Expired(o) => o.price(),
            };
            axum::Json(Status {
                state: stored.state_name(),
                price: price.to_string(),
                refunded,
            })
            .into_response()
        }
        Err(response) => response,
    }
}

fn state_text(state: &str) -> &'static str {
    match state {
        "paid" => "已支付 Paid",
        "pending" => "待支付 Waiting for payment",
        "expired" => "已过期 Expired",
        _ => "已创建 Created",
    }
}

/// The order page: turns to paid by itself once the notification has been applied.
async fn order_page(State(shop): State<Shop>, Path(id): Path<String>) -> Response {
    let stored = match load(&shop, &id).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let state = stored.state_name();
    let body = format!(
        "<h1>订单 Order {id}</h1>\
         <p>状态 Status: <strong id=\"status\" data-state=\"{state}\" data-order=\"{id}\">{text}</strong></p>\
         <p><a href=\"/\">继续购物 Continue shopping</a></p>\
         <script>(function () {{\
           var status = document.getElementById(\"status\");\
           function poll() {{\
             fetch(\"/orders/\" + encodeURIComponent(status.dataset.order) + \"/status\")\
               .then(function (r) {{ return r.json(); }})\
               .then(function (s) {{\
                 status.dataset.state = s.state;\
                 status.textContent = {{paid: \"已支付 Paid\", pending: \"待支付 Waiting for payment\",\
                   expired: \"已过期 Expired\"}}[s.state] || s.state;\
                 if (s.state !== \"paid\") setTimeout(poll, 500);\
               }}).catch(function () {{ setTimeout(poll, 1000); }});\
           }}\
           if (status.dataset.state !== \"paid\") poll();\
         }})();</script>",
        id = esc(&id),
        text = state_text(state),
    );
    Html(page("订单 Order", &body)).into_response()
}

/// XorPay's notification: the service verifies it, records the payment, and only then
/// hands out the acknowledgement. Delivery follows in the background.
async fn notify(State(shop): State<Shop>, body: Bytes) -> Response {
    match shop.payments().confirm(&body).await {
        Ok(confirmed) => {
            if confirmed.is_new() {
                shop.inner.newly_paid.fetch_add(1, Ordering::SeqCst);
                // Test hook, debug builds only: the payment is durable, XorPay has no answer.
                if cfg!(debug_assertions) && shop.config().crash_after_confirm {
                    eprintln!("crash hook: aborting after the store's write");
                    std::process::abort();
                }
            }
            confirmed.into_parts().1.into_response()
        }
        Err(error) => error.into_response(),
    }
}
