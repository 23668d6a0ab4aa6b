//! The demo shop's web application: the shop's state, its order struct and fulfilment, the
//! routes, and the steps that move money (the openid step, checkout, the notify route). The
//! pages a payer sees are in `pages.rs`, the admin in `admin.rs`, the products in
//! `catalog.rs`. `main.rs` configures and starts it; the tests run it in process.
//!
//! Every step that moves money is the lifecycle service's ([`Payments`]): the shop derives its
//! order struct, builds the service, and calls it. Its fulfilment hook (recording a delivery)
//! is idempotent, keyed by the order number, as the service requires.

// The tests include this file as a module and use only part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use xorpay::CheckoutError;
use xorpay::client::openid_from_callback;
use xorpay::order::StoredOrder;
use xorpay::prelude::*;
use xorpay::service::InBackground;

use super::admin;
use super::catalog::product;
pub(crate) use super::deliveries::Deliveries;
use super::html::{error_page, path_segment};
use super::pages;
use super::store::ShopStore;

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
    /// How long the payer has to pay, in seconds (XorPay's default, two hours, when `None`).
    #[xorpay(expire)]
    #[serde(default)]
    pub(crate) lifetime: Option<u32>,
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
    pub(crate) payments: Payments<ShopOrder, ShopStore>,
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
    /// How long payers have to pay, in seconds (`None`: XorPay's default, two hours).
    pub(crate) order_lifetime: Option<u32>,
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

impl Shop {
    /// The shop, recording its deliveries in `deliveries` (the same database as its orders).
    pub(crate) fn new(config: ShopConfig, deliveries: Deliveries) -> Shop {
        Shop {
            inner: Arc::new(Inner {
                config,
                deliveries,
                newly_paid: AtomicUsize::new(0),
                csrf: uuid::Uuid::new_v4().simple().to_string(),
            }),
        }
    }

    pub(crate) fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The lifecycle service.
    pub(crate) fn payments(&self) -> &Payments<ShopOrder, ShopStore> {
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
    pub(crate) async fn deliveries_of(&self, order_id: &str) -> usize {
        usize::from(self.delivery_runs(order_id).await > 0)
    }

    /// How often the fulfilment hook ran for an order.
    pub(crate) async fn delivery_runs(&self, order_id: &str) -> usize {
        self.inner.deliveries.runs(order_id).await
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
        .route("/", get(pages::index))
        .route("/buy/{product}", get(buy))
        .route("/checkout/{product}", get(checkout))
        .route("/orders/{id}", get(pages::order_page))
        .route("/orders/{id}/pay", get(pages::pay_page))
        .route("/orders/{id}/status", get(pages::order_status))
        // A notification is a few hundred bytes: refuse more than the parser would take
        // before reading it, not after buffering axum's 2 MB default.
        .route(
            "/xorpay/notify",
            post(notify).layer(DefaultBodyLimit::max(xorpay::Notification::MAX_BODY)),
        )
        .merge(admin::router())
        .with_state(shop)
}

/// Sends the payer through XorPay's openid redirect, which comes back to `/checkout/…`.
async fn buy(State(shop): State<Shop>, Path(product_id): Path<String>) -> Response {
    if product(&product_id).is_none() {
        return error_page(StatusCode::NOT_FOUND, "没有这个商品 No such product");
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
        return error_page(StatusCode::NOT_FOUND, "没有这个商品 No such product");
    };
    let Some(openid) = query.as_deref().and_then(openid_from_callback) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "没有拿到微信身份，请重新购买 XorPay sent no openid back: please buy again",
        );
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
        lifetime: shop.config().order_lifetime,
    };
    let to = |page: &str| Redirect::to(&format!("/orders/{}{page}", path_segment(&id)));
    match shop.payments().checkout(order).await {
        Ok(Checkout::Pending(_) | Checkout::Cashier(..)) => to("/pay").into_response(),
        Ok(Checkout::Paid(_)) => to("").into_response(),
        // XorPay's answer was lost: the order page shows where it stands while it settles.
        Err(CheckoutError::InDoubt(_)) => to("").into_response(),
        Err(error) => error_page(
            StatusCode::BAD_GATEWAY,
            &format!("下单没有成功 The order could not be placed: {error}"),
        ),
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
        Ok(None) => Err(error_page(
            StatusCode::NOT_FOUND,
            "没有这个订单 No such order",
        )),
        Err(error) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &error.to_string(),
        )),
    }
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
