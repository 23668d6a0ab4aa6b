//! The sandbox-only routes under `/_sandbox/`: what XorPay does not have but a local XorPay
//! needs. None of them is ever faulted.
//!
//! | route | what it does |
//! |---|---|
//! | `POST /_sandbox/orders/{aoid}/pay` | the payer pays: 200 with the order (now `payed`, delivery started, or `fee_error`), 404 `{"error":"not_found"}`, 409 `{"error":"not_payable","state":…}` |
//! | `GET /_sandbox/orders` | every order, oldest first, with refunds and delivery attempts; `?aid=…` and `?order_id=…` keep the matching ones |
//! | `GET /_sandbox/orders/{aoid}` | one order, or 404 |
//! | `POST /_sandbox/orders/{aoid}/fee_error` | the payer pays but XorPay cannot take its fee: the order becomes `fee_error`, its notification held back (answers as `pay`) |
//! | `POST /_sandbox/orders/{aoid}/expire` | a `new` order expires now: 200 with the order, 404, or 409 `{"error":"not_new","state":…}` |
//! | `GET /_sandbox/deliveries` | every notification request, order by order, each with an `id` (`AOID.N`), the order's `aid`, `aoid` and `order_id`; `?aid=…` and `?order_id=…` filter |
//! | `POST /_sandbox/deliveries/{id}/resend` | sends that request again now, exactly as before, and answers its log entry (kind `resent`; the order's state does not change), or 404 |
//! | `PUT /_sandbox/orders/{aoid}/fault` | body an [`crate::OrderFault`], e.g. `{"kind":"concurrent","copies":3}`; `DELETE` removes it |
//! | `GET /_sandbox/faults` | the route faults in force |
//! | `POST /_sandbox/faults` | body a [`crate::RouteFaultRule`], e.g. `{"route":"pay","fault":{"kind":"delay","ms":5000},"times":2}` (`times`: a number or `"always"`, default 1) |
//! | `DELETE /_sandbox/faults` | removes every route fault |
//! | `POST /_sandbox/clock/advance` | body `{"seconds": N}`: moves the sandbox clock forward (at most a century ahead in all); answers `advanced_seconds` and the total `offset_seconds` |
//! | `GET /_sandbox/merchant` | aid, balance, fee rate, frozen flag (never the secret) of the first merchant, or of `?aid=…`; 404 for an aid not hosted |
//! | `PUT /_sandbox/merchant` | body `{"balance_fen": N or null, "app_off": bool}`, each optional; `?aid=…` as for `GET` |
//! | `GET /_sandbox/scan/{aoid}` | the phone that scans a QR order's code: a page with the amount and a pay button (`#xorpay-sandbox-scan-pay`) that pays as `POST …/pay` does; 404 for an unknown order |
//! | `GET /_sandbox/jsbridge.js` | the `WeixinJSBridge` stand-in (see `pages`) |
//! | `GET /_sandbox/jsapi/prepay/{prepay_id}` | for the stand-in: the order's name, amount, state (CORS) |
//! | `POST /_sandbox/jsapi/pay` | for the stand-in: the six bridge fields as JSON; checks `paySign` and pays (CORS, with preflight) |
//!
//! This module adds no payment rule of its own: paying goes through the same ledger call as
//! [`crate::Sandbox::pay`].

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use xorpay_core::Price;

use crate::faults::{OrderFault, RouteFaultRule};
use crate::ledger::{Paying, jsapi_pay_sign};
use crate::orders::PayError;
use crate::params::Params;
use crate::state::Shared;
use crate::{delivery, pages};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/orders", get(list_orders))
        .route("/_sandbox/orders/{aoid}", get(one_order))
        .route("/_sandbox/orders/{aoid}/pay", post(pay_order))
        .route("/_sandbox/orders/{aoid}/fee_error", post(pay_fee_short))
        .route("/_sandbox/orders/{aoid}/expire", post(expire_order))
        .route("/_sandbox/deliveries", get(delivery_log))
        .route("/_sandbox/deliveries/{id}/resend", post(resend))
        .route(
            "/_sandbox/orders/{aoid}/fault",
            put(set_order_fault).delete(clear_order_fault),
        )
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sandbox/clock/advance", post(advance_clock))
        .route("/_sandbox/merchant", get(merchant).put(set_merchant))
        .route("/_sandbox/scan/{aoid}", get(scan_page))
        .route("/_sandbox/jsbridge.js", get(bridge_script))
        .route("/_sandbox/jsapi/prepay/{prepay_id}", get(prepay))
        .route("/_sandbox/jsapi/pay", post(bridge_pay).options(preflight))
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response()
}

/// The `aid` and `order_id` filters of a listing.
fn filters(query: Option<&str>) -> (Option<String>, Option<String>) {
    let params = Params::merge(query, &HeaderMap::new(), &[]);
    let get = |name| params.get(name).map(str::to_owned);
    (get("aid"), get("order_id"))
}

async fn list_orders(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let (aid, order_id) = filters(query.as_deref());
    let mut orders = shared.ledger().views(shared.clock.now());
    orders.retain(|order| {
        aid.as_ref().is_none_or(|aid| &order.aid == aid)
            && order_id.as_ref().is_none_or(|id| &order.order_id == id)
    });
    Json(orders).into_response()
}

async fn delivery_log(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let (aid, order_id) = filters(query.as_deref());
    Json(
        shared
            .ledger()
            .delivery_log(aid.as_deref(), order_id.as_deref()),
    )
    .into_response()
}

async fn resend(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match delivery::resend(&shared, &id).await {
        Some(record) => Json(record).into_response(),
        None => not_found(),
    }
}

async fn one_order(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    match shared.view(&aoid) {
        Some(order) => Json(order).into_response(),
        None => not_found(),
    }
}

/// The phone that scans the order's QR code, as a page.
async fn scan_page(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    match shared.view(&aoid) {
        Some(order) => axum::response::Html(pages::scan(&order)).into_response(),
        None => not_found(),
    }
}

fn pay_response(result: Result<crate::OrderView, PayError>) -> Response {
    match result {
        Ok(order) => Json(order).into_response(),
        Err(PayError::NotFound) => not_found(),
        Err(PayError::NotPayable(state)) => (
            StatusCode::CONFLICT,
            Json(json!({ "error": "not_payable", "state": state })),
        )
            .into_response(),
    }
}

async fn pay_order(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    pay_response(delivery::pay(&shared, &aoid, Paying::OnTime))
}

async fn pay_fee_short(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    pay_response(delivery::pay(&shared, &aoid, Paying::FeeShort))
}

async fn expire_order(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    let expired = shared.ledger().expire(&aoid, shared.clock.now());
    match expired {
        Ok(()) => one_order(State(shared), Path(aoid)).await,
        Err(PayError::NotFound) => not_found(),
        Err(PayError::NotPayable(state)) => (
            StatusCode::CONFLICT,
            Json(json!({ "error": "not_new", "state": state })),
        )
            .into_response(),
    }
}

async fn set_order_fault(
    State(shared): State<Arc<Shared>>,
    Path(aoid): Path<String>,
    Json(fault): Json<OrderFault>,
) -> Response {
    if !shared.ledger().set_fault(&aoid, Some(fault)) {
        return not_found();
    }
    one_order(State(shared), Path(aoid)).await
}

async fn clear_order_fault(
    State(shared): State<Arc<Shared>>,
    Path(aoid): Path<String>,
) -> Response {
    if !shared.ledger().set_fault(&aoid, None) {
        return not_found();
    }
    one_order(State(shared), Path(aoid)).await
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.route_faults().list()).into_response()
}

async fn add_fault(
    State(shared): State<Arc<Shared>>,
    Json(rule): Json<RouteFaultRule>,
) -> Response {
    let mut faults = shared.route_faults();
    faults.set(rule.route, rule.fault, rule.times);
    Json(faults.list()).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.route_faults().clear();
    Json(json!([])).into_response()
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    Json(advance): Json<Advance>,
) -> Response {
    let offset = shared.clock.advance(Duration::from_secs(advance.seconds));
    Json(json!({
        "advanced_seconds": advance.seconds,
        "offset_seconds": offset.as_secs(),
    }))
    .into_response()
}

/// The merchant a `/_sandbox/merchant` request names with `?aid=`, the first by default.
fn named_merchant(shared: &Shared, query: Option<&str>) -> Option<String> {
    let params = Params::merge(query, &HeaderMap::new(), &[]);
    let aid = params.get("aid").unwrap_or(&shared.config.first().aid);
    shared
        .config
        .merchant(aid)
        .map(|merchant| merchant.aid.clone())
}

fn merchant_json(shared: &Shared, aid: &str) -> Value {
    let account = shared.ledger().account(aid);
    json!({
        "aid": aid,
        "balance_fen": account.balance_fen,
        "fee_rate_bp": shared.config.fee_rate_bp,
        "app_off": account.app_off,
    })
}

async fn merchant(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    match named_merchant(&shared, query.as_deref()) {
        Some(aid) => Json(merchant_json(&shared, &aid)).into_response(),
        None => not_found(),
    }
}

/// Absent keys are left alone; `"balance_fen": null` means unlimited.
async fn set_merchant(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    Json(body): Json<Value>,
) -> Response {
    let Some(aid) = named_merchant(&shared, query.as_deref()) else {
        return not_found();
    };
    let Some(body) = body.as_object() else {
        return bad_request("expected a JSON object");
    };
    let balance = match body.get("balance_fen") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(value) => match value.as_u64() {
            Some(fen) => Some(Some(fen)),
            None => return bad_request("balance_fen must be a non-negative integer or null"),
        },
    };
    let app_off = match body.get("app_off") {
        None => None,
        Some(Value::Bool(off)) => Some(*off),
        Some(_) => return bad_request("app_off must be a boolean"),
    };
    {
        let mut ledger = shared.ledger();
        let account = ledger.account_mut(&aid);
        if let Some(balance) = balance {
            account.balance_fen = balance;
        }
        if let Some(app_off) = app_off {
            account.app_off = app_off;
        }
    }
    Json(merchant_json(&shared, &aid)).into_response()
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

async fn bridge_script(State(shared): State<Arc<Shared>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        pages::bridge_script(&shared.base_url),
    )
        .into_response()
}

/// The bridge is loaded by shop pages on another origin: its routes answer any origin. They
/// carry no credentials, and paying an order through them needs its `paySign`.
fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS");
    set(header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type");
    set(header::ACCESS_CONTROL_MAX_AGE, "600");
    response
}

async fn preflight() -> Response {
    with_cors(StatusCode::NO_CONTENT.into_response())
}

async fn prepay(State(shared): State<Arc<Shared>>, Path(prepay_id): Path<String>) -> Response {
    let aoid = shared
        .ledger()
        .aoid_of_prepay(&prepay_id)
        .map(str::to_owned);
    let Some(order) = aoid.and_then(|aoid| shared.view(&aoid)) else {
        return with_cors(not_found());
    };
    let amount = Price::from_fen(order.price_fen)
        .map(|price| price.to_wire().to_string())
        .unwrap_or_default();
    with_cors(
        Json(json!({
            "aoid": order.aoid,
            "name": order.name,
            "amount": amount,
            "state": order.state,
        }))
        .into_response(),
    )
}

/// The six `getBrandWCPayRequest` fields, as the bridge stand-in posts them.
#[derive(Deserialize)]
struct BridgeFields {
    #[serde(rename = "appId")]
    app_id: String,
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    #[serde(rename = "nonceStr")]
    nonce_str: String,
    package: String,
    #[serde(rename = "signType")]
    sign_type: String,
    #[serde(rename = "paySign")]
    pay_sign: String,
}

fn bridge_fail(status: StatusCode, reason: &str) -> Response {
    with_cors(
        (
            status,
            Json(json!({ "err_msg": "get_brand_wcpay_request:fail", "reason": reason })),
        )
            .into_response(),
    )
}

/// What WeChat does when the payer confirms: checks the parameters it was given, then pays.
async fn bridge_pay(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let Ok(fields) = serde_json::from_slice::<BridgeFields>(&body) else {
        return bridge_fail(
            StatusCode::BAD_REQUEST,
            "expected the six bridge fields as JSON",
        );
    };
    let prepay_id = fields.package.strip_prefix("prepay_id=").unwrap_or("");
    let aoid = shared.ledger().aoid_of_prepay(prepay_id).map(str::to_owned);
    let Some(aoid) = aoid else {
        return bridge_fail(StatusCode::NOT_FOUND, "unknown prepay_id");
    };
    let merchant = shared.ledger().merchant_of(&aoid).map(str::to_owned);
    let Some(merchant) = merchant.and_then(|aid| shared.config.merchant(&aid)) else {
        return bridge_fail(StatusCode::NOT_FOUND, "unknown order");
    };
    let expected = jsapi_pay_sign(
        &fields.app_id,
        &fields.time_stamp,
        &fields.nonce_str,
        &fields.package,
        &fields.sign_type,
        &merchant.secret.get(),
    );
    if !fields.pay_sign.eq_ignore_ascii_case(&expected) {
        return bridge_fail(StatusCode::BAD_REQUEST, "paySign does not match");
    }
    match delivery::pay(&shared, &aoid, Paying::OnTime) {
        Ok(order) => with_cors(
            Json(json!({ "err_msg": "get_brand_wcpay_request:ok", "aoid": order.aoid }))
                .into_response(),
        ),
        Err(PayError::NotFound) => bridge_fail(StatusCode::NOT_FOUND, "unknown order"),
        Err(PayError::NotPayable(state)) => bridge_fail(
            StatusCode::CONFLICT,
            &format!("the order is {}", state.as_str()),
        ),
    }
}
