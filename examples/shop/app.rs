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

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use xorpay::CheckoutError;
use xorpay::client::openid_from_callback;
use xorpay::prelude::*;

use super::admin;
use super::catalog::product;
pub(crate) use super::deliveries::Deliveries;
use super::html::{error_page, path_segment};
use super::pages;

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
    /// The lifecycle service: XorPay, the order store, the shop's notify URL, the
    /// deliveries as its fulfilment hook.
    pub(crate) payments: Payments<ShopOrder>,
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
                csrf: uuid::Uuid::new_v4().simple().to_string(),
            }),
        }
    }

    pub(crate) fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The lifecycle service.
    pub(crate) fn payments(&self) -> &Payments<ShopOrder> {
        &self.inner.config.payments
    }

    /// The admin forms' CSRF token.
    pub(crate) fn csrf(&self) -> &str {
        &self.inner.csrf
    }

    /// Delivers every paid order not delivered yet (the service also does, in the
    /// background).
    pub(crate) async fn deliver_outstanding(&self) {
        if let Err(error) = self.payments().fulfil_paid().await {
            eprintln!("delivery sweep failed: {error}");
        }
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

/// The shop's routes, and the service's notify route at its notify URL's path.
pub(crate) fn router(shop: Shop) -> Router {
    let notify = notify_router(&shop);
    Router::new()
        .route("/", get(pages::index))
        .route("/buy/{product}", get(buy))
        .route("/checkout/{product}", get(checkout))
        .route("/orders/{id}", get(pages::order_page))
        .route("/orders/{id}/pay", get(pages::pay_page))
        .route("/orders/{id}/status", get(pages::order_status))
        .merge(admin::router())
        .with_state(shop)
        .merge(notify)
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
        Ok(Checkout::Pending(_)) => to("/pay").into_response(),
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

/// The stored order `id`, or the page that says why there is none.
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

/// XorPay's notifications: the service's router, at the path of its notify URL. With the
/// test hook on (debug builds only), the process aborts when the router answers `ok`: the
/// payment is durable, XorPay has no answer, and its retry must find it.
fn notify_router(shop: &Shop) -> Router {
    let router = shop.payments().router();
    if cfg!(debug_assertions) && shop.config().crash_after_confirm {
        return router.layer(axum::middleware::map_response(crash_before_answering));
    }
    router
}

async fn crash_before_answering(response: Response) -> Response {
    if response.status() == StatusCode::OK {
        eprintln!("crash hook: aborting after the store's write");
        std::process::abort();
    }
    response
}
