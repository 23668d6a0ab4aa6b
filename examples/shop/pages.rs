//! The pages a payer sees around a payment: the home page with the products, and the order
//! page (the pay pages are in `pay.rs`), which says what was bought, for how much and where the order stands, turns to paid
//! by itself, offers to pay again after a cancelled or failed payment, and stops asking once
//! the order is paid or expired.

use axum::extract::{Path, RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use xorpay::prelude::*;
use xorpay::time::OffsetDateTime;

use super::catalog::CATALOG;
use super::html::{SHOP_NAME, china_time, esc, page, path_segment, state_label};
use super::order::ShopOrder;
use super::state::{Shop, load};

/// The home page: the shop's name and its products.
pub(crate) async fn index() -> Html<String> {
    let mut cards = String::new();
    for product in &CATALOG {
        let price = Price::from_fen(product.fen)
            .map(|p| p.to_string())
            .unwrap_or_default();
        cards.push_str(&format!(
            "<div class=\"card\">{picture}<h2 class=\"name\">{name}</h2><p>{blurb}</p>\
             <p class=\"price\">¥{price}</p>\
             <a id=\"buy-{id}\" class=\"button buy\" href=\"/buy/{id}\">购买 Buy</a></div>",
            picture = product.picture,
            name = esc(product.name),
            blurb = esc(product.blurb),
            id = product.id,
        ));
    }
    Html(page(
        "首页 Home",
        &format!(
            "<h1>{SHOP_NAME}</h1>\
             <p class=\"lead\">现磨咖啡和好茶，用微信或支付宝支付。Fresh coffee and fine tea, paid \
             with WeChat Pay or Alipay.</p><div class=\"cards\">{cards}</div>\
             <p><a href=\"/admin\">订单管理 Admin</a></p>"
        ),
    ))
}

/// Where an order stands as the payer sees it: its stored state, except that a pending
/// order past its lifetime shows as expired (reconciliation records it so later).
pub(crate) fn shown_state(stored: &StoredOrder<ShopOrder>) -> &'static str {
    match stored {
        StoredOrder::Pending(pending) if OffsetDateTime::now_utc() >= pending.expires_at() => {
            "expired"
        }
        other => other.state_name(),
    }
}

/// The order's own struct, whatever its state.
fn inner(stored: &StoredOrder<ShopOrder>) -> &ShopOrder {
    match stored {
        StoredOrder::Created(o) => o.inner(),
        StoredOrder::Pending(o) => o.inner(),
        StoredOrder::Paid(o) => o.inner(),
        StoredOrder::Expired(o) => o.inner(),
    }
}

#[derive(Serialize)]
struct Status {
    state: &'static str,
    label: &'static str,
    /// Whether the payer can still pay it.
    payable: bool,
    price: String,
    refunded: Option<String>,
}

/// The order's state, for the order page to poll.
pub(crate) async fn order_status(State(shop): State<Shop>, Path(id): Path<String>) -> Response {
    match load(&shop, &id).await {
        Ok(stored) => axum::Json(status(&stored)).into_response(),
        Err(response) => response,
    }
}

fn status(stored: &StoredOrder<ShopOrder>) -> Status {
    let state = shown_state(stored);
    let refunded = match stored {
        StoredOrder::Paid(paid) => paid.refunded().map(|p| p.to_string()),
        _ => None,
    };
    Status {
        state,
        label: state_label(state),
        payable: state == "pending",
        price: inner(stored).price().to_string(),
        refunded,
    }
}

/// What the payer's last try at paying came to, from the pay page's `?result=`.
fn result_notice(query: Option<&str>, state: &str) -> String {
    let result = query
        .into_iter()
        .flat_map(|query| query.split('&'))
        .find_map(|pair| pair.strip_prefix("result="));
    let (class, text) = match (result, state) {
        (_, "paid") | (None, _) => return String::new(),
        (Some("ok"), _) => ("notice", "支付完成，正在确认… Payment made, confirming…"),
        (Some("cancel"), _) => ("notice", "已取消支付。You cancelled the payment."),
        (Some(_), _) => ("notice bad", "支付未成功。The payment did not go through."),
    };
    format!("<p id=\"result\" class=\"{class}\">{text}</p>")
}

/// The order page: what was bought, the amount, the state (turning to paid by itself), and
/// a way to pay (again) while the order can still be paid.
pub(crate) async fn order_page(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let stored = match load(&shop, &id).await {
        Ok(stored) => stored,
        Err(response) => return response,
    };
    let status = status(&stored);
    let order = inner(&stored);
    let mut details = format!("<dt>订单号 Order</dt><dd>{}</dd>", esc(&id));
    match &stored {
        StoredOrder::Pending(pending) => details.push_str(&format!(
            "<dt>下单时间 Ordered</dt><dd>{}</dd><dt>请在此前支付 Pay by</dt><dd>{}</dd>",
            china_time(pending.submitted_at()),
            china_time(pending.expires_at())
        )),
        StoredOrder::Paid(paid) => {
            if let Some(at) = paid.pay_time() {
                details.push_str(&format!(
                    "<dt>支付时间 Paid at</dt><dd>{}</dd>",
                    china_time(at)
                ));
            }
        }
        StoredOrder::Expired(expired) => details.push_str(&format!(
            "<dt>过期时间 Expired at</dt><dd>{}</dd>",
            china_time(expired.expired_at())
        )),
        StoredOrder::Created(_) => {}
    }
    let refunded = status.refunded.as_deref().map_or(String::new(), |amount| {
        format!("<p id=\"refunded\">已退款 Refunded: ¥{amount}</p>")
    });
    let pay_text = match query.as_deref().is_some_and(|q| q.contains("result=")) {
        true => "重新支付 Pay again",
        false => "去支付 Pay now",
    };
    let body = format!(
        "<div class=\"panel\"><h1 id=\"product\">{title}</h1>\
         <p class=\"amount\">¥{price}</p>\
         <p>状态 Status: <strong id=\"status\" class=\"state state-{state}\" data-state=\"{state}\" \
         data-order=\"{id}\">{label}</strong></p>{notice}{refunded}\
         <p><a id=\"pay-again\" class=\"button\" href=\"/orders/{segment}/pay\"{hidden}>{pay_text}</a></p>\
         <dl>{details}</dl></div>\
         <p><a class=\"button secondary\" href=\"/\">继续购物 Continue shopping</a></p>\
         <script>(function () {{\
           var status = document.getElementById(\"status\");\
           var again = document.getElementById(\"pay-again\");\
           var done = {{paid: true, expired: true}};\
           window.__statusPolls = 0;\
           function poll() {{\
             window.__statusPolls += 1;\
             fetch(\"/orders/\" + encodeURIComponent(status.dataset.order) + \"/status\")\
               .then(function (r) {{ return r.json(); }})\
               .then(function (s) {{\
                 status.dataset.state = s.state;\
                 status.className = \"state state-\" + s.state;\
                 status.textContent = s.label;\
                 again.hidden = !s.payable;\
                 if (s.state === \"paid\") {{\
                   var notice = document.getElementById(\"result\");\
                   if (notice) notice.remove();\
                 }}\
                 if (!done[s.state]) setTimeout(poll, 1000);\
               }}).catch(function () {{ setTimeout(poll, 2000); }});\
           }}\
           if (!done[status.dataset.state]) setTimeout(poll, 500);\
         }})();</script>",
        title = esc(order.title()),
        price = order.price(),
        state = status.state,
        label = status.label,
        id = esc(&id),
        segment = esc(&path_segment(&id)),
        notice = result_notice(query.as_deref(), status.state),
        hidden = if status.payable { "" } else { " hidden" },
    );
    Html(page("订单 Order", &body)).into_response()
}
