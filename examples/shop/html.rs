//! The demo shop's HTML helpers: the page frame, escaping, error pages, URL path segments.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A page with a title and a body.
pub(crate) fn page(title: &str, body: &str) -> String {
    page_with_head(title, "", body)
}

/// A page with extra `<head>` content (scripts).
pub(crate) fn page_with_head(title: &str, head: &str, body: &str) -> String {
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

/// An error page with a status.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    let body = page(
        "出错了 Error",
        &format!(
            "<p class=\"error\">{}</p><p><a href=\"/\">返回 Back</a></p>",
            esc(message)
        ),
    );
    (status, Html(body)).into_response()
}

/// Escapes text for HTML.
pub(crate) fn esc(text: &str) -> String {
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
