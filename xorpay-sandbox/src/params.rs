//! Request parameters, taken from the query string and the form body as XorPay takes them.
//!
//! XorPay's official Node demo POSTs every parameter in the query string with an empty body,
//! and the mini-program doc puts extra parameters in the URL (docs/protocol.md §1.2, §8 item 16),
//! so both places are read and merged; on a conflict **the body wins** (an assumption, as the
//! protocol notes). Within one place a repeated key keeps its **last** value, as Python web
//! frameworks' form dictionaries do.
//!
//! Only `application/x-www-form-urlencoded` bodies are read (a body without a content type is
//! read as one too, as lenient servers do); any other body (JSON, multipart) is ignored, so its
//! parameters count as missing. Values are percent-decoded exactly once; invalid UTF-8 is
//! replaced, which then fails the signature check like any other altered value.
//!
//! This module does not validate anything: an empty value is kept, and the routes decide
//! that empty means missing.

use std::collections::HashMap;

use axum::http::{HeaderMap, header};

/// The merged parameters of one request.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Merges the raw query string and the body, the body winning.
    pub(crate) fn merge(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Params {
        let mut params = HashMap::new();
        if let Some(query) = query {
            params.extend(form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        if is_form(headers) {
            params.extend(form_urlencoded::parse(body).into_owned());
        }
        Params(params)
    }

    /// The value as sent, even when empty.
    pub(crate) fn raw(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value, or `None` when absent or empty: several peer SDKs always send empty
    /// optional fields (`more=`, `openid=`), and an empty required field is as good as none.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.raw(key).filter(|value| !value.is_empty())
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        None => true,
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|value| value.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn form_headers(content_type: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers
    }

    #[test]
    fn body_wins_over_query_and_last_value_wins() {
        let params = Params::merge(
            Some("a=1&b=2&b=3&name=%E9%97%A8"),
            &form_headers("application/x-www-form-urlencoded; charset=utf-8"),
            b"a=9&c=+x+&empty=",
        );
        assert_eq!(params.get("a"), Some("9"));
        assert_eq!(params.get("b"), Some("3"));
        assert_eq!(params.get("c"), Some(" x "));
        assert_eq!(params.get("name"), Some("门"));
        assert_eq!(params.raw("empty"), Some(""));
        assert_eq!(params.get("empty"), None);
    }

    #[test]
    fn other_bodies_are_ignored() {
        let params = Params::merge(Some("a=1"), &form_headers("application/json"), b"b=2");
        assert_eq!(params.get("a"), Some("1"));
        assert_eq!(params.get("b"), None);
        let params = Params::merge(None, &HeaderMap::new(), b"b=2");
        assert_eq!(params.get("b"), Some("2"));
    }
}
