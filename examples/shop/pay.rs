//! The pay page, one per way of paying: inside WeChat it hands the order's six parameters to
//! `WeixinJSBridge`; on a computer it shows the WeChat QR code to scan with the phone; in a
//! phone's browser elsewhere it links to Alipay's app (a phone cannot scan its own screen).
//! The QR and Alipay pages watch the order and go to its order page once it is paid or
//! expired; the JSAPI page goes there when the bridge answers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use xorpay::jsapi::BridgeScript;
use xorpay::prelude::*;

use super::html::{china_time, error_page, esc, page, page_with_head, path_segment};
use super::order::ShopOrder;
use super::pages::shown_state;
use super::state::{Bridge, Shop, ShopConfig, load};

/// The pay page of a pending order; an order that can no longer be paid goes to its order
/// page.
pub(crate) async fn pay_page(State(shop): State<Shop>, Path(id): Path<String>) -> Response {
    let stored = match load(&shop, &id).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let order_page = format!("/orders/{}", path_segment(&id));
    if shown_state(&stored) != "pending" {
        return Redirect::to(&order_page).into_response();
    }
    let StoredOrder::Pending(pending) = stored else {
        return Redirect::to(&order_page).into_response();
    };
    let order = pending.inner();
    let summary = format!(
        "<h1>{title}</h1><p class=\"amount\">¥<span id=\"amount\">{price}</span></p>",
        title = esc(order.title()),
        price = order.price(),
    );
    let details = format!(
        "<dl><dt>订单号 Order</dt><dd>{id}</dd><dt>请在此前支付 Pay by</dt><dd>{until}</dd></dl>\
         <p><a class=\"button secondary\" href=\"{order_page}\">查看订单 Order status</a></p>",
        id = esc(&id),
        until = china_time(pending.expires_at()),
        order_page = esc(&order_page),
    );
    match (order, pending.payment()) {
        (ShopOrder::WeChat(_), _) => match pending.jsapi_params() {
            Some(params) => jsapi(&shop, params, &summary, &details, &order_page),
            None => no_way_to_pay(),
        },
        (ShopOrder::Qr(_), xorpay::PaymentInfo::Qr(text)) => {
            let image = shop.payments().client().qr_image_url(text);
            let body = format!(
                "<div class=\"panel\">{summary}\
                 <p><img id=\"qr\" src=\"{image}\" width=\"240\" height=\"240\" \
                 alt=\"微信支付二维码 WeChat Pay QR code\"></p>\
                 <p id=\"hint\">请用微信扫一扫付款 Scan with WeChat to pay</p>{phone}{details}</div>\
                 {watch}",
                image = esc(&image),
                phone = sandbox_phone(shop.config(), &pending),
                watch = watch_script(&id, &order_page),
            );
            Html(page("扫码支付 Scan to pay", &body)).into_response()
        }
        (ShopOrder::Alipay(_), xorpay::PaymentInfo::Qr(link)) => {
            let body = format!(
                "<div class=\"panel\">{summary}\
                 <p><a id=\"open-alipay\" class=\"button\" href=\"{link}\">打开支付宝付款 Pay in \
                 Alipay</a></p>\
                 <p id=\"hint\">用微信支付请在微信里打开本店 To pay with WeChat Pay, open the shop \
                 in WeChat</p>{phone}{details}</div>{watch}",
                link = esc(link),
                phone = sandbox_phone(shop.config(), &pending),
                watch = watch_script(&id, &order_page),
            );
            Html(page("支付宝支付 Pay with Alipay", &body)).into_response()
        }
        _ => no_way_to_pay(),
    }
}

/// With the sandbox, a link to its stand-in for the payer's phone (which pays the order);
/// nothing when the shop talks to XorPay.
fn sandbox_phone(config: &ShopConfig, pending: &Order<ShopOrder, Pending>) -> String {
    match (&config.bridge, pending.aoid()) {
        (Bridge::SandboxStandIn { sandbox_url }, Some(aoid)) => format!(
            "<p><a id=\"sandbox-scan\" class=\"button secondary\" href=\"{sandbox}/_sandbox/scan/{aoid}\" \
             target=\"_blank\">用沙箱的手机付款 Pay with the sandbox's phone</a></p>",
            sandbox = esc(sandbox_url),
            aoid = esc(aoid.as_str()),
        ),
        _ => String::new(),
    }
}

fn no_way_to_pay() -> Response {
    error_page(
        StatusCode::CONFLICT,
        "这个订单没有付款方式 This order has nothing to pay with",
    )
}

/// The JSAPI page: the bridge script with the order's parameters, and in the sandbox its
/// stand-in for `WeixinJSBridge`.
fn jsapi(
    shop: &Shop,
    params: &xorpay::JsapiParams,
    summary: &str,
    details: &str,
    order_page: &str,
) -> Response {
    let script = match BridgeScript::new(params).result_url(order_page) {
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
    let body = format!(
        "<div class=\"panel\">{summary}\
         <p id=\"hint\">正在调起微信支付… Opening WeChat Pay…</p>{details}</div>{script}\
         <script>document.addEventListener(\"xorpay:jsapi-result\", function (event) {{\
           var hint = document.getElementById(\"hint\");\
           hint.textContent = event.detail.result === \"ok\" ? \"支付完成，正在确认… Paid, confirming…\" :\
             event.detail.result === \"cancel\" ? \"已取消 Cancelled\" : \"支付未成功 Not paid\";\
         }});</script>"
    );
    Html(page_with_head("支付 Pay", &stand_in, &body)).into_response()
}

/// Polls the order's state and goes to its order page once it is paid or expired: the payer
/// pays on another device (the phone that scanned) or in another app (Alipay). The URLs are
/// in data attributes, escaped for HTML, so the script holds no text of the order's.
fn watch_script(id: &str, order_page: &str) -> String {
    let status_url = format!("/orders/{}/status", path_segment(id));
    format!(
        "<span id=\"watch\" hidden data-status=\"{status}\" data-order=\"{order}\"></span>\
         <script>(function () {{\
           var watch = document.getElementById(\"watch\");\
           function poll() {{\
             fetch(watch.dataset.status).then(function (r) {{ return r.json(); }})\
               .then(function (s) {{\
                 if (s.state === \"paid\" || s.state === \"expired\") {{\
                   window.location.href = watch.dataset.order;\
                 }} else {{ setTimeout(poll, 1000); }}\
               }}).catch(function () {{ setTimeout(poll, 2000); }});\
           }}\
           setTimeout(poll, 500);\
         }})();</script>",
        status = esc(&status_url),
        order = esc(order_page),
    )
}
