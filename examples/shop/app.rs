//! The demo shop's web application: a product page, the openid step, order creation, the
//! JSAPI pay page, the notify route, an order page that turns to paid by itself, and a small
//! admin list with refunds. `main.rs` configures and starts it; the tests run it in process.
//!
//! Orders live in a [`SqliteStore`] before they are sent to XorPay; the notify route applies
//! verified notifications with [`confirm_notification`] and answers XorPay only after the
//! store's write. Fulfilment (here: recording a delivery) is idempotent, keyed by the order
//! number, so a repeated, concurrent or post-crash delivery never delivers twice.

// The tests include this file as a module and use only part of it.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use xorpay::axum::XorPayNotification;
use xorpay::client::{Client, openid_from_callback};
use xorpay::jsapi::BridgeScript;
use xorpay::order::{Order, Paid, StoredOrder};
use xorpay::prelude::*;
use xorpay::store::{
    Acknowledgement, Confirmed, OrderStore, ReconcilePolicy, RefundOutcome, SqliteStore,
    Submission, Transition, confirm_notification_with, reconcile, settle_submission,
};
use xorpay::{AppSecret, Price};

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
    /// The XorPay client (its notify URL points at this shop's `/xorpay/notify`).
    pub(crate) client: Client,
    /// The merchant's secret, to verify notifications.
    pub(crate) secret: AppSecret,
    /// The order store.
    pub(crate) store: SqliteStore<ShopOrder>,
    /// The shop's public base URL, for the openid callback.
    pub(crate) public_url: String,
    /// Where `WeixinJSBridge` comes from.
    pub(crate) bridge: Bridge,
    /// `None`: the admin pages are open (the demo, on loopback). `Some(token)`: they answer
    /// only requests carrying `?token=…` (the shop talking to XorPay for real).
    pub(crate) admin_token: Option<String>,
    /// Test hook, debug builds only: abort the process after the store's write of a new
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
    deliveries: Arc<Mutex<rusqlite::Connection>>,
    newly_paid: AtomicUsize,
    /// Put in every admin form and checked on submission: another site cannot make the
    /// admin's browser post a refund.
    csrf: String,
}

impl FromRef<Shop> for AppSecret {
    fn from_ref(shop: &Shop) -> AppSecret {
        shop.inner.config.secret.clone()
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
        Ok(Shop {
            inner: Arc::new(Inner {
                config,
                deliveries: Arc::new(Mutex::new(deliveries)),
                newly_paid: AtomicUsize::new(0),
                csrf: uuid::Uuid::new_v4().simple().to_string(),
            }),
        })
    }

    fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The order store.
    pub(crate) fn store(&self) -> &SqliteStore<ShopOrder> {
        &self.inner.config.store
    }

    /// How many notifications paid an order in this process (each order once).
    pub(crate) fn newly_paid(&self) -> usize {
        self.inner.newly_paid.load(Ordering::SeqCst)
    }

    /// How many deliveries are recorded for an order (0 or 1).
    pub(crate) fn deliveries_of(&self, order_id: &str) -> usize {
        let Ok(connection) = self.inner.deliveries.lock() else {
            return 0;
        };
        connection
            .query_row(
                "SELECT COUNT(*) FROM deliveries WHERE order_id = ?1",
                [order_id],
                |row| row.get::<_, i64>(0),
            )
            .map_or(0, |count| usize::try_from(count).unwrap_or(0))
    }

    /// Fulfils a paid order: records its delivery once, whoever asks how often. SQLite is
    /// synchronous, so this runs on the blocking pool.
    async fn deliver(&self, order: &Order<ShopOrder, Paid>) -> Result<bool, String> {
        let deliveries = Arc::clone(&self.inner.deliveries);
        let id = order.order_id().to_owned();
        let title = order.inner().title.clone();
        tokio::task::spawn_blocking(move || {
            let connection = deliveries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let inserted = connection
                .execute(
                    "INSERT INTO deliveries (order_id, delivered_unix) VALUES (?1, unixepoch())
                     ON CONFLICT (order_id) DO NOTHING",
                    [&id],
                )
                .map_err(|e| e.to_string())?;
            if inserted == 1 {
                println!("delivered order {id} ({title})");
            }
            Ok(inserted == 1)
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Delivers every paid order that has not been delivered yet: the ones a crash left
    /// behind, and the ones reconciliation found paid. Pages through every order.
    pub(crate) async fn deliver_outstanding(&self) {
        let mut after: Option<String> = None;
        loop {
            let page = match self.store().list(after.as_deref(), 500).await {
                Ok(page) => page,
                Err(error) => return eprintln!("delivery sweep failed: {error}"),
            };
            let Some(last) = page.last() else { return };
            after = Some(last.order_id().to_owned());
            for order in &page {
                if let StoredOrder::Paid(paid) = order
                    && self.deliveries_of(paid.order_id()) == 0
                    && let Err(error) = self.deliver(paid).await
                {
                    eprintln!("delivery of {} failed: {error}", paid.order_id());
                }
            }
        }
    }

    /// Every paid order a person must act on: a refund in doubt, or an aoid only XorPay's
    /// dashboard can tell. Pages through every order.
    async fn needing_attention(&self) -> Result<Vec<StoredOrder<ShopOrder>>, String> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store()
                .list(after.as_deref(), 500)
                .await
                .map_err(|error| error.to_string())?;
            let Some(last) = page.last() else {
                return Ok(found);
            };
            after = Some(last.order_id().to_owned());
            found.extend(page.into_iter().filter(|order| {
                matches!(order, StoredOrder::Paid(paid)
                    if paid.refund_in_doubt().is_some() || paid.aoid().is_none())
            }));
        }
    }

    /// Asks XorPay about orders whose fate the store cannot know (submissions in doubt,
    /// pending orders whose notification has not come, orders expired within a day), and
    /// delivers those it finds paid.
    pub(crate) async fn reconcile_once(&self) {
        let now = xorpay::time::OffsetDateTime::now_utc();
        let policy = ReconcilePolicy::default();
        match reconcile(self.store(), &self.config().client, now, &policy).await {
            Ok(report) => {
                if !report.paid.is_empty() || report.expired > 0 || report.recovered > 0 {
                    println!("reconciled: {report:?}");
                }
                for paid in &report.paid {
                    if let Err(error) = self.deliver(paid).await {
                        eprintln!("delivery of {} failed: {error}", paid.order_id());
                    }
                }
                for order_id in &report.fee_error {
                    eprintln!(
                        "order {order_id} was paid, but XorPay could not take its fee \
                         (fee_error): top up the prepaid balance in XorPay's dashboard"
                    );
                }
            }
            Err(error) => eprintln!("reconcile failed: {error}"),
        }
    }

    /// Whether an admin request may proceed.
    fn admin_allowed(&self, query: Option<&str>) -> bool {
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
        .route("/admin", get(admin))
        .route("/admin/orders/{id}/refund", post(refund))
        .route("/admin/orders/{id}/resolve", post(resolve))
        .route("/admin/orders/{id}/aoid", post(record_aoid))
        .with_state(shop)
}

/// An error page with a status.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = page(
        "出错了 Error",
        &format!(
            "<p class=\"error\">{}</p><p><a href=\"/\">返回 Back</a></p>",
            esc(message)
        ),
    );
    (status, Html(body)).into_response()
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
    match shop.config().client.openid_url(&callback) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(error) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// Back from the openid redirect: store the order, then submit it, then show the pay page.
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
    let order = ShopOrder {
        id: new_order_id(),
        title: product.name.to_owned(),
        price,
        openid,
        product: product.id.to_owned(),
    };
    let order = match Order::new(order) {
        Ok(order) => order,
        Err(error) => return error_page(StatusCode::BAD_REQUEST, &error.to_string()),
    };
    let id = order.order_id().to_owned();
    // Stored before it is sent: a notification that comes back fast finds it.
    if let Err(error) = shop.store().insert(&order).await {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string());
    }
    let pending = match shop.config().client.submit(order).await {
        Ok(pending) => pending,
        // XorPay may have created it and the answer been lost: ask, and re-submit the
        // identical order to recover it (reconciliation would do the same later).
        Err(failed) if failed.error().outcome_unknown() => {
            let now = xorpay::time::OffsetDateTime::now_utc();
            let client = &shop.config().client;
            return match settle_submission(shop.store(), client, failed.into_order(), now).await {
                Ok(Submission::Pending(_) | Submission::Superseded) => {
                    Redirect::to(&format!("/orders/{}/pay", path_segment(&id))).into_response()
                }
                Ok(_) => Redirect::to(&format!("/orders/{}", path_segment(&id))).into_response(),
                Err(error) => error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
            };
        }
        Err(failed) => {
            return error_page(
                StatusCode::BAD_GATEWAY,
                &format!("XorPay did not accept the order: {}", failed.error()),
            );
        }
    };
    if let Err(error) = shop.store().mark_pending(&pending).await {
        return error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string());
    }
    Redirect::to(&format!("/orders/{}/pay", path_segment(&id))).into_response()
}

/// Percent-encodes text for one URL path segment.
fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A fresh order number: the time and a random tail.
fn new_order_id() -> String {
    let now = xorpay::time::OffsetDateTime::now_utc();
    let tail = uuid::Uuid::new_v4().simple().to_string();
    format!("shop-{}-{}", now.unix_timestamp(), &tail[..8])
}

async fn load(shop: &Shop, id: &str) -> Result<StoredOrder<ShopOrder>, Response> {
    match shop.store().load(id).await {
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

/// XorPay's notification: verified by the extractor, applied to the store, then delivered
/// (idempotently), and only then acknowledged.
async fn notify(
    State(shop): State<Shop>,
    XorPayNotification(notification): XorPayNotification,
) -> Result<Acknowledgement, Response> {
    let confirmed = confirm_notification_with(shop.store(), &shop.config().client, notification)
        .await
        .map_err(IntoResponse::into_response)?;
    if let Confirmed::Newly(..) = &confirmed {
        shop.inner.newly_paid.fetch_add(1, Ordering::SeqCst);
        // Test hook, debug builds only: the payment is durable, XorPay has no answer yet.
        if cfg!(debug_assertions) && shop.config().crash_after_confirm {
            eprintln!("crash hook: aborting after the store's write");
            std::process::abort();
        }
    }
    shop.deliver(confirmed.order())
        .await
        .map_err(|error| error_page(StatusCode::SERVICE_UNAVAILABLE, &error))?;
    let (_, ack) = confirmed.into_parts();
    Ok(ack)
}

/// The admin list: every order, with a refund form for paid ones.
async fn admin(State(shop): State<Shop>, RawQuery(query): RawQuery) -> Response {
    if !shop.admin_allowed(query.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "not found");
    }
    let token = query.map(|query| format!("?{query}")).unwrap_or_default();
    let orders = match shop.store().recent(100).await {
        Ok(orders) => orders,
        Err(error) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
    };
    // Orders a person must act on, however old: refunds in doubt, and payments whose aoid
    // only the dashboard can tell.
    let attention = match shop.needing_attention().await {
        Ok(orders) => orders,
        Err(error) => return error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string()),
    };
    let rows = |orders: &[StoredOrder<ShopOrder>]| {
        let mut rows = String::new();
        for stored in orders {
            rows.push_str(&admin_row(&shop, stored, &token));
        }
        rows
    };
    let header = "<tr><th>订单 Order</th><th>商品 Product</th><th>金额 Price</th>\
                  <th>状态 State</th><th>已退 Refunded</th><th></th></tr>";
    let attention = if attention.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>待处理 Needs attention</h2><table id=\"attention\">{header}{}</table>",
            rows(&attention)
        )
    };
    Html(page(
        "订单管理 Admin",
        &format!(
            "{attention}<h2>最近订单 Recent orders</h2><table>{header}{}</table>\
             <p><a href=\"/\">返回 Shop</a></p>",
            rows(&orders)
        ),
    ))
    .into_response()
}

/// One order's row in the admin, with the action its state allows.
fn admin_row(shop: &Shop, stored: &StoredOrder<ShopOrder>, token: &str) -> String {
    let form = |id: &str, action: &str, fields: &str| {
        format!(
            "<form method=\"post\" action=\"/admin/orders/{id}/{action}{token}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}</form>",
            id = esc(id),
            token = esc(token),
            csrf = shop.inner.csrf,
        )
    };
    let (refunded, action) = match stored {
        StoredOrder::Paid(paid) => (
            paid.refunded().map(|p| p.to_string()).unwrap_or_default(),
            match (paid.refund_in_doubt(), paid.refundable()) {
                (Some(amount), _) => {
                    let rfc3339 = &xorpay::time::format_description::well_known::Rfc3339;
                    let began = paid
                        .refund_in_doubt_since()
                        .and_then(|since| since.format(rfc3339).ok())
                        .unwrap_or_default();
                    format!(
                        "<p class=\"doubt\">退款 {amount} 结果待确认 refund of {amount} in \
                         doubt: check XorPay's dashboard</p>{}",
                        form(
                            paid.order_id(),
                            "resolve",
                            &format!(
                                "<input type=\"hidden\" name=\"began\" value=\"{began}\">\
                                 <button name=\"made\" value=\"yes\">已退款 Made</button> \
                                 <button name=\"made\" value=\"no\">未退款 Not made</button>"
                            ),
                        )
                    )
                }
                (None, Some(left)) if paid.aoid().is_some() => form(
                    paid.order_id(),
                    "refund",
                    &format!(
                        "<input name=\"amount\" value=\"{left}\" size=\"8\">\
                         <button type=\"submit\">退款 Refund</button>"
                    ),
                ),
                (None, Some(_)) => format!(
                    "<p>等待通知 waiting for XorPay's notification to name the aoid, or enter \
                     it from XorPay's dashboard:</p>{}",
                    form(
                        paid.order_id(),
                        "aoid",
                        "<input name=\"aoid\" size=\"34\">\
                         <button type=\"submit\">记录 Record</button>",
                    )
                ),
                (None, None) => "已全额退款 fully refunded".to_owned(),
            },
        ),
        _ => (String::new(), String::new()),
    };
    let (id, title, price) = match stored {
        StoredOrder::Created(o) => (o.order_id(), &o.inner().title, o.price()),
        StoredOrder::Pending(o) => (o.order_id(), &o.inner().title, o.price()),
        StoredOrder::Paid(o) => (o.order_id(), &o.inner().title, o.price()),
        StoredOrder::Expired(o) => (o.order_id(), &o.inner().title, o.price()),
    };
    format!(
        "<tr><td><a href=\"/orders/{id}\">{id}</a></td><td>{title}</td><td>{price}</td>\
         <td class=\"state\">{state}</td><td>{refunded}</td><td>{action}</td></tr>",
        id = esc(id),
        title = esc(title),
        state = stored.state_name(),
    )
}

#[derive(Deserialize)]
struct RefundForm {
    amount: String,
    csrf: String,
}

/// Refunds part or all of a paid order: the refund is saved as in doubt before it is sent,
/// so that a crash in between cannot lose it, and saved again with XorPay's answer.
async fn refund(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    axum::Form(form): axum::Form<RefundForm>,
) -> Response {
    if !shop.admin_allowed(query.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "not found");
    }
    if form.csrf != shop.inner.csrf {
        return error_page(
            StatusCode::FORBIDDEN,
            "the form is stale: reload the admin page",
        );
    }
    let Ok(amount) = form.amount.parse::<Price>() else {
        return error_page(StatusCode::BAD_REQUEST, "the amount is not a price");
    };
    // Recorded in doubt before it is sent, sent once, answer recorded (the store's refund
    // protocol): a crash, a double click or a second admin cannot refund twice.
    let now = xorpay::time::OffsetDateTime::now_utc();
    let client = &shop.config().client;
    match xorpay::store::refund(shop.store(), client, &id, amount, now).await {
        Ok(RefundOutcome::Made) => Redirect::to(&admin_url(query.as_deref())).into_response(),
        Ok(RefundOutcome::InDoubt(error)) => error_page(
            StatusCode::BAD_GATEWAY,
            &format!(
                "退款结果待确认 The refund of {amount} is in doubt: XorPay's answer did not \
                 come ({error}). It stays counted; check XorPay's dashboard, then resolve it \
                 in the admin."
            ),
        ),
        Err(error) => error_page(StatusCode::CONFLICT, &format!("refund failed: {error}")),
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    made: String,
    /// When the refund in doubt began (RFC 3339, exactly as stored): ties the decision to
    /// that refund, so a stale page cannot resolve a later one.
    began: String,
    csrf: String,
}

/// Settles a refund in doubt as XorPay's dashboard shows it: made, or not made.
async fn resolve(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    axum::Form(form): axum::Form<ResolveForm>,
) -> Response {
    if !shop.admin_allowed(query.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "not found");
    }
    if form.csrf != shop.inner.csrf {
        return error_page(
            StatusCode::FORBIDDEN,
            "the form is stale: reload the admin page",
        );
    }
    let made = match form.made.as_str() {
        "yes" => true,
        "no" => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "made must be yes or no"),
    };
    let rfc3339 = &xorpay::time::format_description::well_known::Rfc3339;
    let Ok(began) = xorpay::time::OffsetDateTime::parse(&form.began, rfc3339) else {
        return error_page(StatusCode::BAD_REQUEST, "began is not a time");
    };
    let now = xorpay::time::OffsetDateTime::now_utc();
    let client = &shop.config().client;
    match xorpay::store::resolve(shop.store(), client, &id, began, made, now).await {
        Ok(()) => Redirect::to(&admin_url(query.as_deref())).into_response(),
        Err(error) => error_page(StatusCode::CONFLICT, &error.to_string()),
    }
}

#[derive(Deserialize)]
struct AoidForm {
    aoid: String,
    csrf: String,
}

/// Records the aoid of an order a query proved paid, as read on XorPay's dashboard: when
/// every notification failed, nothing else tells it, and refunds need it.
async fn record_aoid(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    axum::Form(form): axum::Form<AoidForm>,
) -> Response {
    if !shop.admin_allowed(query.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "not found");
    }
    if form.csrf != shop.inner.csrf {
        return error_page(
            StatusCode::FORBIDDEN,
            "the form is stale: reload the admin page",
        );
    }
    let Ok(aoid) = xorpay::Aoid::new(form.aoid.trim()) else {
        return error_page(StatusCode::BAD_REQUEST, "that is not an aoid");
    };
    let mut paid = match load(&shop, &id).await {
        Ok(StoredOrder::Paid(paid)) => paid,
        Ok(_) => {
            return error_page(
                StatusCode::CONFLICT,
                "only paid orders have an aoid to record",
            );
        }
        Err(response) => return response,
    };
    if let Err(error) = paid.record_aoid(aoid) {
        return error_page(StatusCode::CONFLICT, &error.to_string());
    }
    if let Err(response) = save_paid(&shop, &mut paid).await {
        return response;
    }
    Redirect::to(&admin_url(query.as_deref())).into_response()
}

fn admin_url(query: Option<&str>) -> String {
    format!(
        "/admin{}",
        query.map(|q| format!("?{q}")).unwrap_or_default()
    )
}

async fn save_paid(shop: &Shop, paid: &mut Order<ShopOrder, Paid>) -> Result<(), Response> {
    match shop.store().update_paid(paid).await {
        Ok(Transition::Applied) => Ok(()),
        Ok(Transition::NotApplied) => Err(error_page(
            StatusCode::CONFLICT,
            "the order changed meanwhile (another refund?): reload the admin page",
        )),
        Err(error) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &error.to_string(),
        )),
    }
}

fn page(title: &str, body: &str) -> String {
    page_with_head(title, "", body)
}

fn page_with_head(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:sans-serif;max-width:40em;margin:2em auto;\
         padding:0 1em}}li{{margin:.5em 0}}.price,.amount{{font-weight:bold}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em}}\
         .error{{color:#b00}}</style>{head}</head><body>{body}</body></html>",
        title = esc(title),
    )
}

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
