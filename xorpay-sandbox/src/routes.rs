//! XorPay's own routes (docs/protocol.md §2–§4), checked exactly as XorPay would check them, and
//! the router that puts them together with the sandbox-only routes.
//!
//! **Validation order** for pay, cashier and barcode (the order is **UNCONFIRMED**; this is
//! §10's plausible one):
//! 1. unknown aid → `aid_not_exist`;
//! 2. frozen account → `app_off`;
//! 3. a required parameter absent or empty → `missing_argument` (`name`, `pay_type`, `price`,
//!    `order_id`, `notify_url`, `sign`; `barcode` for barcode payments);
//! 4. a `pay_type` the endpoint does not take → `pay_type_error` (pay: `native`, `jsapi`,
//!    `alipay`; cashier: `jsapi` only, as documented; barcode: `wechat_barcode`,
//!    `alipay_barcode`); then a JSAPI order without `openid` (or a mini-program order,
//!    `is_mini=true`, without `appid`) → `missing_argument`;
//! 5. signature → `sign_error` (pay formula, or barcode formula; over the raw strings);
//! 6. a `price` that is not a positive decimal amount with at most two decimals (`abc`, `-1`,
//!    `0`, `1e3`, `0.001`), or an `expire` that is not a positive integer →
//!    **`missing_argument`**. XorPay documents no code for this (UNCONFIRMED); this sandbox
//!    treats an unusable value like a missing one, a code every client knows. `50` and `50.0`
//!    are accepted, as signed;
//! 7. a JSAPI `openid` this sandbox's openid route never issued → `invalid_openid` (not for
//!    mini programs, whose openid belongs to the merchant's own mini program, §3.5a);
//! 8. the order-id rules and the fee (see the `ledger` module): `order_payed`,
//!    `order_expire`, `order_exist`, `fee_error`;
//! 9. barcode only: the channel's verdict on the code (`AUTH_CODE_INVALID`).
//!
//! Business errors are HTTP 200 with `{"status": "<code>"}` (§1.2). The other routes: query
//! (`not_exist` or the state), query2 (`aid_not_exist`, `missing_argument`, `sign_error`,
//! `not_exist` or the state), refund (see the ledger's refund rules; a request without
//! `price` or `sign` gets `missing_argument`), openid (`aid_not_exist`, `app_off`,
//! `missing_argument` as JSON, else a 302), qr (`missing_argument` as JSON without `data`,
//! HTTP 400 when `data` is too long for a QR code, else a PNG).
//!
//! Only the merchant's own aid exists. This module does not trust the client: every value
//! that XorPay checks is checked here, whatever the SDK promises.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Json, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::json;
use xorpay_core::Price;

use crate::faults::Route;
use crate::ledger::{BarcodeOutcome, Created, NewOrder};
use crate::magic::{LoseAnswer, MagicAmount};
use crate::orders::OrderKind;
use crate::params::Params;
use crate::state::Shared;
use crate::{admin, delivery, inject, pages, qr, sign};

/// Every route of the sandbox.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let faulted = |route: Route, method_router: MethodRouter<Arc<Shared>>| {
        method_router.layer(from_fn_with_state(
            (Arc::clone(&shared), route),
            inject::apply,
        ))
    };
    Router::new()
        .route("/api/pay/{aid}", faulted(Route::Pay, post(pay)))
        .route(
            "/api/cashier/{aid}",
            faulted(Route::Cashier, get(cashier).post(cashier)),
        )
        .route(
            "/api/barcode_pay/{aid}",
            faulted(Route::Barcode, post(barcode)),
        )
        .route("/api/openid/{aid}", faulted(Route::Openid, get(openid)))
        .route("/api/query/{aoid}", faulted(Route::Query, get(query)))
        .route("/api/query2/{aid}", faulted(Route::Query2, get(query2)))
        .route("/api/refund/{aoid}", faulted(Route::Refund, post(refund)))
        .route("/qr", faulted(Route::Qr, get(qr_image)))
        .merge(admin::router())
        .with_state(shared)
}

/// A business answer: HTTP 200 with `{"status": code}`.
pub(crate) fn status(code: &str) -> Response {
    Json(json!({ "status": code })).into_response()
}

/// The three ways to create an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Pay,
    Cashier,
    Barcode,
}

impl Endpoint {
    fn kind(self) -> OrderKind {
        match self {
            Endpoint::Pay => OrderKind::Pay,
            Endpoint::Cashier => OrderKind::Cashier,
            Endpoint::Barcode => OrderKind::Barcode,
        }
    }

    fn accepts(self, pay_type: &str) -> bool {
        match self {
            Endpoint::Pay => matches!(pay_type, "native" | "jsapi" | "alipay"),
            Endpoint::Cashier => pay_type == "jsapi",
            Endpoint::Barcode => matches!(pay_type, "wechat_barcode" | "alipay_barcode"),
        }
    }
}

/// Steps 1–7 of the validation order: a checked request, or the status code refusing it.
fn check_order(
    shared: &Shared,
    endpoint: Endpoint,
    aid: &str,
    params: &Params,
) -> Result<NewOrder, &'static str> {
    let config = &shared.config;
    let Some(merchant) = config.merchant(aid) else {
        return Err("aid_not_exist");
    };
    if shared.ledger().account(aid).app_off {
        return Err("app_off");
    }
    let required = |key| params.get(key).ok_or("missing_argument");
    let name = required("name")?;
    let pay_type = required("pay_type")?;
    let price = required("price")?;
    let order_id = required("order_id")?;
    let notify_url = required("notify_url")?;
    let received_sign = required("sign")?;
    let barcode = match endpoint {
        Endpoint::Barcode => Some(required("barcode")?),
        Endpoint::Pay | Endpoint::Cashier => None,
    };
    if !endpoint.accepts(pay_type) {
        return Err("pay_type_error");
    }
    let jsapi = endpoint == Endpoint::Pay && pay_type == "jsapi";
    let mini = jsapi && params.get("is_mini") == Some("true");
    let openid = if jsapi {
        Some(required("openid")?)
    } else {
        None
    };
    let mini_appid = if mini { Some(required("appid")?) } else { None };

    // pay and cashier: md5(name + pay_type + price + order_id + notify_url + secret);
    // barcode: the same with `barcode` before the secret (docs/protocol.md §1.3).
    let mut signed = vec![name, pay_type, price, order_id, notify_url];
    signed.extend(barcode);
    let expected = sign::sign(&signed, &merchant.secret.get());
    if !sign::matches(received_sign, &expected, config.strict_lowercase_sign) {
        return Err("sign_error");
    }

    let price_fen = price
        .parse::<Price>()
        .map_err(|_| "missing_argument")?
        .fen();
    let expire = match (endpoint, params.get("expire")) {
        (Endpoint::Barcode, _) | (_, None) => None,
        (_, Some(expire)) => match expire.parse::<u64>() {
            Ok(seconds) if seconds > 0 => Some(seconds),
            _ => return Err("missing_argument"),
        },
    };
    if let Some(openid) = openid
        && !mini
        && !shared.ledger().knows_openid(openid)
    {
        return Err("invalid_openid");
    }
    let optional = |key| params.get(key).map(str::to_owned);
    Ok(NewOrder {
        aid: aid.to_owned(),
        kind: endpoint.kind(),
        name: name.to_owned(),
        pay_type: pay_type.to_owned(),
        price: price.to_owned(),
        price_fen,
        order_id: order_id.to_owned(),
        notify_url: notify_url.to_owned(),
        order_uid: optional("order_uid"),
        more: optional("more"),
        expire,
        openid: openid.map(str::to_owned),
        mini_appid: mini_appid.map(str::to_owned),
        barcode: barcode.map(str::to_owned),
        return_url: optional("return_url"),
        cancel_url: match endpoint {
            Endpoint::Cashier => optional("cancel_url"),
            Endpoint::Pay | Endpoint::Barcode => None,
        },
    })
}

/// Validates and creates an order (steps 1–9).
fn create(
    shared: &Arc<Shared>,
    endpoint: Endpoint,
    aid: &str,
    params: &Params,
) -> Result<Created, String> {
    let request = check_order(shared, endpoint, aid, params).map_err(str::to_owned)?;
    let outcome = request
        .barcode
        .as_deref()
        .map(|code| BarcodeOutcome::of(&request.pay_type, code));
    let now = shared.clock.now();
    let created = shared
        .ledger()
        .create(request, outcome, &shared.config, now)
        .map_err(str::to_owned)?;
    if created.start_delivery {
        delivery::spawn(shared, created.aoid.clone());
    }
    Ok(created)
}

/// Marks `answer` to be lost ([`LoseAnswer`]) when `lose` holds.
fn lose_if(lose: bool, mut answer: Response) -> Response {
    if lose {
        answer.extensions_mut().insert(LoseAnswer);
    }
    answer
}

/// `POST /api/pay/{aid}`: native, jsapi (and mini program) and alipay orders (§3).
async fn pay(
    State(shared): State<Arc<Shared>>,
    Path(aid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::merge(query.as_deref(), &headers, &body);
    match create(&shared, Endpoint::Pay, &aid, &params) {
        Ok(created) => lose_if(created.lose_answer, Json(created.response).into_response()),
        Err(code) => status(&code),
    }
}

/// `GET|POST /api/cashier/{aid}`: the payer's page on success, JSON on errors (§4.2).
async fn cashier(
    State(shared): State<Arc<Shared>>,
    Path(aid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::merge(query.as_deref(), &headers, &body);
    match create(&shared, Endpoint::Cashier, &aid, &params) {
        Ok(created) => match shared.view(&created.aoid) {
            Some(order) => lose_if(
                created.lose_answer,
                Html(pages::cashier(&order)).into_response(),
            ),
            None => status("not_exist"),
        },
        Err(code) => status(&code),
    }
}

/// `POST /api/barcode_pay/{aid}`: `success`, `new`, or the channel's code (§4.3).
async fn barcode(
    State(shared): State<Arc<Shared>>,
    Path(aid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::merge(query.as_deref(), &headers, &body);
    match create(&shared, Endpoint::Barcode, &aid, &params) {
        Ok(created) => lose_if(created.lose_answer, Json(created.response).into_response()),
        Err(code) => status(&code),
    }
}

/// `GET /api/openid/{aid}?callback=…`: a 302 to `callback + "&openid=" + openid`, the `&`
/// appended blindly as XorPay does (§4.1, §8 item 9).
async fn openid(
    State(shared): State<Arc<Shared>>,
    Path(aid): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::merge(query.as_deref(), &HeaderMap::new(), &[]);
    if shared.config.merchant(&aid).is_none() {
        return status("aid_not_exist");
    }
    if shared.ledger().account(&aid).app_off {
        return status("app_off");
    }
    let Some(callback) = params.get("callback") else {
        return status("missing_argument");
    };
    let openid = shared.ledger().issue_openid();
    let location = location_header(&format!("{callback}&openid={openid}"));
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// The callback is kept byte for byte where it can be; only bytes a header cannot carry
/// (spaces, controls, non-ASCII) are percent-encoded, as browsers would send them anyway.
fn location_header(url: &str) -> HeaderValue {
    let mut encoded = String::with_capacity(url.len());
    for byte in url.bytes() {
        if (0x21..=0x7e).contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// `GET /api/query/{aoid}`: the order's state, or `not_exist` (§4.4). No authentication.
async fn query(State(shared): State<Arc<Shared>>, Path(aoid): Path<String>) -> Response {
    let now = shared.clock.now();
    match shared.ledger().state(&aoid, now) {
        Some(state) => status(state.as_str()),
        None => status("not_exist"),
    }
}

/// `GET /api/query2/{aid}?order_id=…&sign=…`, sign = md5(order_id + secret) (§4.5).
async fn query2(
    State(shared): State<Arc<Shared>>,
    Path(aid): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = Params::merge(query.as_deref(), &HeaderMap::new(), &[]);
    let Some(merchant) = shared.config.merchant(&aid) else {
        return status("aid_not_exist");
    };
    let (Some(order_id), Some(received)) = (params.get("order_id"), params.get("sign")) else {
        return status("missing_argument");
    };
    let expected = sign::sign(&[order_id], &merchant.secret.get());
    if !sign::matches(received, &expected, shared.config.strict_lowercase_sign) {
        return status("sign_error");
    }
    let now = shared.clock.now();
    let mut ledger = shared.ledger();
    let aoid = ledger.aoid_of(&aid, order_id).map(str::to_owned);
    match aoid.and_then(|aoid| ledger.state(&aoid, now)) {
        Some(state) => status(state.as_str()),
        None => status("not_exist"),
    }
}

/// `POST /api/refund/{aoid}` with `price` and sign = md5(price + secret) (§4.6).
async fn refund(
    State(shared): State<Arc<Shared>>,
    Path(aoid): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::merge(query.as_deref(), &headers, &body);
    let now = shared.clock.now();
    let mut ledger = shared.ledger();
    let code = ledger.refund(
        &aoid,
        params.get("price"),
        params.get("sign"),
        &shared.config,
        now,
    );
    let magic = ledger
        .view(&aoid, now)
        .and_then(|order| shared.config.magic(order.price_fen));
    drop(ledger);
    lose_if(
        code == "ok" && magic == Some(MagicAmount::RefundAnswerLost),
        status(code),
    )
}

/// `GET /qr?data=…`: a PNG QR code of `data` (§4.7).
async fn qr_image(RawQuery(query): RawQuery) -> Response {
    let params = Params::merge(query.as_deref(), &HeaderMap::new(), &[]);
    let Some(data) = params.get("data") else {
        return status("missing_argument");
    };
    match qr::png(data.as_bytes()) {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    }
}
