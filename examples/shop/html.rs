//! The demo shop's HTML helpers: the page frame and its style (phone first: payments happen
//! in WeChat's in-app browser), escaping, error pages, state labels, times, URL path
//! segments.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
pub(crate) use xorpay::html::escape as esc;
use xorpay::time::{OffsetDateTime, UtcOffset};

/// The shop's name, on every page.
pub(crate) const SHOP_NAME: &str = "小咖啡馆 Little Café";

const STYLE: &str = "\
*{box-sizing:border-box}[hidden]{display:none!important}\
body{margin:0;font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',sans-serif;\
color:#222;background:#f6f6f4;line-height:1.5}\
header{background:#2f4f3f;color:#fff;padding:.8rem 1rem}\
header a{color:#fff;text-decoration:none;font-weight:600}\
main{max-width:40rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .5rem}\
.lead{color:#555}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:.8rem;margin:1rem 0}\
.card{background:#fff;border-radius:12px;padding:1rem;text-align:center;box-shadow:0 1px 3px #0002}\
.card svg{width:4.5rem;height:4.5rem}.card h2{margin:.4rem 0 .2rem;font-size:1.05rem}\
.card p{margin:.2rem 0;color:#666;font-size:.9rem}\
.price,.amount,.card .price{font-weight:700;color:#c0392b}.amount{font-size:2rem;margin:.3rem 0}\
.button{display:inline-block;background:#07c160;color:#fff;border:0;border-radius:8px;padding:.6rem 1.2rem;\
font-size:1rem;text-decoration:none;margin-top:.5rem;cursor:pointer}\
.button.secondary{background:#fff;color:#2f4f3f;border:1px solid #2f4f3f}\
.panel{background:#fff;border-radius:12px;padding:1rem;box-shadow:0 1px 3px #0002}\
.notice{padding:.6rem .8rem;border-radius:8px;background:#fff7e0;border:1px solid #f0d58a}\
.notice.bad{background:#fdecea;border-color:#f5b7b1}\
.state{font-weight:700}.state-paid{color:#1e8449}.state-expired{color:#7f8c8d}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem .8rem;margin:.8rem 0}dt{color:#666}dd{margin:0}\
.table{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}\
td,th{border-bottom:1px solid #e5e5e5;padding:.4rem .5rem;text-align:left;vertical-align:top}\
td form{margin:.2rem 0}input{font-size:1rem;padding:.3rem;max-width:8rem}\
td ul{margin:0;padding-left:1.1rem}\
@media (max-width:40rem){table,tbody,tr,td{display:block}tr.head{display:none}\
table{background:none}tr{background:#fff;border-radius:12px;margin:0 0 .7rem;padding:.4rem 0;\
box-shadow:0 1px 3px #0002}td{border:0;padding:.2rem .8rem}\
td[data-label]::before{content:attr(data-label);display:block;color:#888;font-size:.75rem}}\
.error{color:#b00}\
footer{color:#888;font-size:.8rem;text-align:center;padding:2rem 1rem}";

/// A page with a title and a body.
pub(crate) fn page(title: &str, body: &str) -> String {
    page_with_head(title, "", body)
}

/// A page with extra `<head>` content (scripts).
pub(crate) fn page_with_head(title: &str, head: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {SHOP_NAME}</title><style>{STYLE}</style>{head}</head><body>\
         <header><a href=\"/\">{SHOP_NAME}</a></header><main>{body}</main>\
         <footer>演示商店 · A demo shop built with xorpay-rs</footer></body></html>",
        title = esc(title),
    )
}

/// An error page with a status; `message` says what went wrong (in both languages where the
/// shop wrote it, or as the library put it).
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<h1>出错了 Something went wrong</h1><p class=\"notice bad error\">{}</p>\
         <p><a class=\"button secondary\" href=\"/\">返回商店 Back to the shop</a></p>",
        esc(message)
    );
    (status, Html(page("出错了 Error", &body))).into_response()
}

/// An order state (as the service names it) in Chinese and English.
pub(crate) fn state_label(state: &str) -> &'static str {
    match state {
        "paid" => "已支付 Paid",
        "pending" => "待支付 Awaiting payment",
        "expired" => "已过期 Expired",
        _ => "处理中 Being created",
    }
}

/// A time as the shop's payers and staff read it: China time, to the minute.
pub(crate) fn china_time(time: OffsetDateTime) -> String {
    let offset = UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC);
    let time = time.to_offset(offset);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        time.year(),
        u8::from(time.month()),
        time.day(),
        time.hour(),
        time.minute()
    )
}

/// Percent-encodes text for one URL path segment.
pub(crate) fn path_segment(text: &str) -> String {
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
