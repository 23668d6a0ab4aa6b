//! The demo shop's admin: recent orders, the ones a person must act on, and refunds through
//! the service. Refund forms carry a key made when the page is shown, so a double click or a
//! resent form finds the first refund instead of refunding twice; refunds in doubt are
//! resolved as XorPay's dashboard shows them.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use xorpay::RefundError;
use xorpay::order::{Refund, RefundState};
use xorpay::prelude::*;
use xorpay::service::Listed;

use super::html::{china_time, error_page, esc, page, path_segment, state_label};
use super::order::ShopOrder;
use super::state::{Shop, load};

/// The admin's routes.
pub(crate) fn router() -> Router<Shop> {
    Router::new()
        .route("/admin", get(admin))
        .route("/admin/orders/{id}/refund", post(refund))
        .route("/admin/orders/{id}/resolve", post(resolve))
        .route("/admin/orders/{id}/aoid", post(record_aoid))
}

/// The admin list: orders that need a person first, then the recent ones.
async fn admin(State(shop): State<Shop>, RawQuery(query): RawQuery) -> Response {
    if !shop.admin_allowed(query.as_deref()) {
        return error_page(StatusCode::NOT_FOUND, "找不到 Not found");
    }
    let token = query.map(|query| format!("?{query}")).unwrap_or_default();
    let (recent, attention) = match (
        shop.payments().recent(100).await,
        shop.payments().needing_attention(100).await,
    ) {
        (Ok(recent), Ok(attention)) => (recent, attention),
        (Err(error), _) | (_, Err(error)) => {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, &error.to_string());
        }
    };
    let rows = |orders: &[Listed<ShopOrder>]| {
        orders
            .iter()
            .map(|listed| row(&shop, listed, &token))
            .collect::<String>()
    };
    let header = "<tr class=\"head\"><th>订单 Order</th><th>商品 Product</th>\
                  <th>状态 State</th><th>时间 Times</th><th>退款 Refunds</th><th></th></tr>";
    let attention = if attention.is_empty() {
        String::new()
    } else {
        format!(
            "<h2>待处理 Needs attention</h2><div class=\"table\"><table id=\"attention\">\
             {header}{}</table></div>",
            rows(&attention)
        )
    };
    Html(page(
        "订单管理 Admin",
        &format!(
            "<h1>订单管理 Orders</h1>{attention}<h2>最近订单 Recent orders</h2>\
             <div class=\"table\"><table id=\"recent\">{header}{}</table></div>\
             <p><a class=\"button secondary\" href=\"/\">返回商店 Back to the shop</a></p>",
            rows(&recent)
        ),
    ))
    .into_response()
}

/// A refund as the admin reads it: amount, outcome, when.
fn refund_line(refund: &Refund) -> String {
    let outcome = match refund.state() {
        RefundState::Made => "已退款 made",
        RefundState::InDoubt => "待确认 in doubt",
        _ => "未退款 not made",
    };
    let at = refund.settled_at().unwrap_or(refund.requested_at());
    format!(
        "<li>¥{} {outcome} <small>{}</small></li>",
        refund.amount(),
        china_time(at)
    )
}

/// One order's row, with the action its state allows.
fn row(shop: &Shop, listed: &Listed<ShopOrder>, token: &str) -> String {
    let stored = &listed.order;
    let form = |id: &str, action: &str, fields: &str| {
        format!(
            "<form method=\"post\" action=\"/admin/orders/{id}/{action}{token}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">{fields}</form>",
            id = esc(id),
            token = esc(token),
            csrf = shop.csrf(),
        )
    };
    let (refunded, action) = match stored {
        StoredOrder::Paid(paid) => (
            match paid.refunds() {
                [] => String::new(),
                refunds => format!(
                    "<ul class=\"refunds\">{}</ul>",
                    refunds.iter().map(refund_line).collect::<String>()
                ),
            },
            match (paid.refund_in_doubt(), paid.refundable()) {
                (Some(refund), _) => format!(
                    "<p class=\"doubt\">退款 {amount} 结果待确认 refund of {amount} in doubt: \
                     check XorPay's dashboard</p>{}",
                    form(
                        paid.order_id(),
                        "resolve",
                        &format!(
                            "<input type=\"hidden\" name=\"key\" value=\"{key}\">\
                             <button class=\"button\" name=\"made\" value=\"yes\">已退款 Made</button> \
                             <button class=\"button secondary\" name=\"made\" value=\"no\">未退款 Not made</button>",
                            key = esc(refund.key()),
                        ),
                    ),
                    amount = refund.amount(),
                ),
                (None, Some(left)) if paid.aoid().is_some() => form(
                    paid.order_id(),
                    "refund",
                    &format!(
                        "<input type=\"hidden\" name=\"key\" value=\"{key}\">\
                         <input name=\"amount\" value=\"{left}\" size=\"8\">\
                         <button class=\"button\" type=\"submit\">退款 Refund</button>",
                        key = uuid::Uuid::new_v4().simple(),
                    ),
                ),
                (None, Some(_)) => format!(
                    "<p>等待通知 waiting for XorPay's notification to name the aoid, or enter \
                     it from XorPay's dashboard:</p>{}",
                    form(
                        paid.order_id(),
                        "aoid",
                        "<input name=\"aoid\" size=\"34\">\
                         <button class=\"button\" type=\"submit\">记录 Record</button>",
                    )
                ),
                (None, None) => "已全额退款 Fully refunded".to_owned(),
            },
        ),
        _ => (String::new(), String::new()),
    };
    let (id, title, price) = match stored {
        StoredOrder::Created(o) => (o.order_id(), o.inner().title(), o.price()),
        StoredOrder::Pending(o) => (o.order_id(), o.inner().title(), o.price()),
        StoredOrder::Paid(o) => (o.order_id(), o.inner().title(), o.price()),
        StoredOrder::Expired(o) => (o.order_id(), o.inner().title(), o.price()),
    };
    let mut times = format!("下单 ordered {}", china_time(listed.created_at));
    if let StoredOrder::Paid(paid) = stored
        && let Some(at) = paid.pay_time()
    {
        times.push_str(&format!("<br>支付 paid {}", china_time(at)));
    }
    if let Some(at) = listed.fulfilled_at {
        times.push_str(&format!("<br>发货 delivered {}", china_time(at)));
    }
    format!(
        "<tr><td data-label=\"订单 Order\"><a href=\"/orders/{link}\">{id}</a></td>\
         <td data-label=\"商品 Product\">{title} · ¥{price}</td>\
         <td class=\"state\" data-state=\"{state}\" data-label=\"状态 State\">{label}</td>\
         <td data-label=\"时间 Times\"><small>{times}</small></td>\
         <td data-label=\"退款 Refunds\">{refunded}</td><td>{action}</td></tr>",
        id = esc(id),
        link = esc(&path_segment(id)),
        title = esc(title),
        state = stored.state_name(),
        label = state_label(stored.state_name()),
    )
}

/// The refusal of a form without the admin token or with a stale CSRF token, if any.
fn refusal(shop: &Shop, query: Option<&str>, csrf: &str) -> Option<Response> {
    if !shop.admin_allowed(query) {
        return Some(error_page(StatusCode::NOT_FOUND, "找不到 Not found"));
    }
    (csrf != shop.csrf()).then(|| {
        error_page(
            StatusCode::FORBIDDEN,
            "表单已过期，请刷新 The form is stale: reload the admin page",
        )
    })
}

fn back(query: Option<&str>) -> Response {
    Redirect::to(&format!(
        "/admin{}",
        query.map(|q| format!("?{q}")).unwrap_or_default()
    ))
    .into_response()
}

/// The paid order an admin action is about.
async fn paid(shop: &Shop, id: &str) -> Result<Order<ShopOrder, Paid>, Response> {
    match load(shop, id).await? {
        StoredOrder::Paid(paid) => Ok(paid),
        other => Err(error_page(
            StatusCode::CONFLICT,
            &format!("订单未支付 The order is {}, not paid", other.state_name()),
        )),
    }
}

#[derive(Deserialize)]
struct RefundForm {
    amount: String,
    key: String,
    csrf: String,
}

/// Refunds part or all of a paid order, under the form's key.
async fn refund(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    axum::Form(form): axum::Form<RefundForm>,
) -> Response {
    if let Some(response) = refusal(&shop, query.as_deref(), &form.csrf) {
        return response;
    }
    let Ok(amount) = form.amount.parse::<Price>() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "金额格式不对 The amount is not a price",
        );
    };
    let paid = match paid(&shop, &id).await {
        Ok(paid) => paid,
        Err(response) => return response,
    };
    match shop.payments().refund(&paid, amount, &form.key).await {
        Ok(_) => back(query.as_deref()),
        Err(RefundError::InDoubt { refund, error }) => error_page(
            StatusCode::BAD_GATEWAY,
            &format!(
                "退款结果待确认 The refund of {} is in doubt: XorPay's answer did not come{}. \
                 It stays counted; check XorPay's dashboard, then resolve it in the admin.",
                refund.amount(),
                error.map(|error| format!(" ({error})")).unwrap_or_default()
            ),
        ),
        Err(error @ RefundError::NotMade { .. }) => error_page(
            StatusCode::CONFLICT,
            &format!("退款被拒绝 Refund refused: {error}"),
        ),
        Err(error) => error_page(
            StatusCode::CONFLICT,
            &format!("退款失败 Refund failed: {error}"),
        ),
    }
}

#[derive(Deserialize)]
struct ResolveForm {
    made: String,
    /// The refund's key: ties the decision to that refund, so a stale page cannot resolve a
    /// later one.
    key: String,
    csrf: String,
}

/// Settles a refund in doubt as XorPay's dashboard shows it: made, or not made.
async fn resolve(
    State(shop): State<Shop>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    axum::Form(form): axum::Form<ResolveForm>,
) -> Response {
    if let Some(response) = refusal(&shop, query.as_deref(), &form.csrf) {
        return response;
    }
    let made = match form.made.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "请选择已退款或未退款 made must be yes or no",
            );
        }
    };
    let paid = match paid(&shop, &id).await {
        Ok(paid) => paid,
        Err(response) => return response,
    };
    match shop.payments().resolve_refund(&paid, &form.key, made).await {
        Ok(_) => back(query.as_deref()),
        Err(error) => error_page(
            StatusCode::CONFLICT,
            &format!("暂时不能确认 Not resolved: {error}"),
        ),
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
    if let Some(response) = refusal(&shop, query.as_deref(), &form.csrf) {
        return response;
    }
    let Ok(aoid) = xorpay::Aoid::new(form.aoid.trim()) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "这不是 XorPay 订单号 That is not an aoid",
        );
    };
    let paid = match paid(&shop, &id).await {
        Ok(paid) => paid,
        Err(response) => return response,
    };
    match shop.payments().record_aoid(&paid, aoid).await {
        Ok(()) => back(query.as_deref()),
        Err(error) => error_page(
            StatusCode::CONFLICT,
            &format!("没有记录 Not recorded: {error}"),
        ),
    }
}
