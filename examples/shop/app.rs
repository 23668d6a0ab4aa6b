//! The demo shop's web application: the routes, and the steps that move money (the openid
//! step, checkout, the notify route). The shop's state is in `state.rs`, its order struct
//! in `order.rs`, the pages a payer sees in `pages.rs`, the admin in `admin.rs`, the
//! products in `catalog.rs`. `main.rs` configures and starts it; the tests run it in
//! process.
//!
//! Every step that moves money is the lifecycle service's ([`Payments`]): the shop derives its
//! order struct, builds the service, and calls it. Its fulfilment hook (recording a delivery)
//! is idempotent, keyed by the order number, as the service requires.

// The tests include this file as a module and use only part of it.
#![allow(dead_code)]

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use xorpay::client::openid_from_callback;
use xorpay::payer::{MerchantSetup, kind_for};
use xorpay::prelude::*;
use xorpay::{CheckoutError, RequestKind};

use super::admin;
use super::catalog::product;
use super::html::{error_page, path_segment};
use super::metrics;
use super::order::{AlipayOrder, QrOrder, ShopOrder, WeChatOrder};
use super::pages;
use super::pay;
use super::state::Shop;

/// The shop's routes, and the service's notify route at its notify URL's path.
pub(crate) fn router(shop: Shop) -> Router {
    let notify = notify_router(&shop);
    Router::new()
        .route("/", get(pages::index))
        .route("/buy/{product}", get(buy))
        .route("/checkout/{product}", get(checkout))
        .route("/orders/{id}", get(pages::order_page))
        .route("/orders/{id}/pay", get(pay::pay_page))
        .route("/orders/{id}/status", get(pages::order_status))
        .merge(admin::router())
        .merge(metrics::router())
        .with_state(shop)
        .merge(notify)
}

/// Sends the payer the way their browser can pay ([`kind_for`]): inside WeChat through
/// XorPay's openid redirect, which comes back to `/checkout/…`; on a computer straight to a
/// WeChat QR code; in a phone's browser elsewhere to Alipay.
async fn buy(
    State(shop): State<Shop>,
    Path(product_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(product) = product(&product_id) else {
        return error_page(StatusCode::NOT_FOUND, "没有这个商品 No such product");
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let Ok(price) = Price::from_fen(product.fen) else {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "bad catalogue price");
    };
    let (id, title, product_key) = (
        new_order_id(),
        product.name.to_owned(),
        product.id.to_owned(),
    );
    let lifetime = shop.config().order_lifetime;
    let order = match kind_for(user_agent, MerchantSetup::JSAPI) {
        RequestKind::Native => ShopOrder::Qr(QrOrder {
            id,
            title,
            price,
            product: product_key,
            lifetime,
        }),
        RequestKind::Alipay => ShopOrder::Alipay(AlipayOrder {
            id,
            title,
            price,
            product: product_key,
            lifetime,
        }),
        // Inside WeChat: the payer's openid first.
        _ => {
            let callback = format!("{}/checkout/{product_id}", shop.config().public_url);
            return match shop.payments().client().openid_url(&callback) {
                Ok(url) => Redirect::to(&url).into_response(),
                Err(error) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
            };
        }
    };
    place(&shop, order).await
}

/// Back from the openid redirect, inside WeChat: a JSAPI order for the payer it named.
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
    let order = ShopOrder::WeChat(WeChatOrder {
        id: new_order_id(),
        title: product.name.to_owned(),
        price,
        openid,
        product: product.id.to_owned(),
        lifetime: shop.config().order_lifetime,
    });
    place(&shop, order).await
}

/// The service checks the order out (stores it, sends it, records it pending), then the pay
/// page.
async fn place(shop: &Shop, order: ShopOrder) -> Response {
    let id = order.id().to_owned();
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
