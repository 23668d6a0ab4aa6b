//! Text and JSON made safe inside an HTML page, for the pages that show an order to a payer:
//! the JSAPI payment page, the cashier's return page, the sandbox's pages and a shop's own.

/// Escapes text for HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
/// `'` become character references.
///
/// ```
/// assert_eq!(xorpay::html::escape(r#"<a href="x">茶 & 'tea'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;茶 &amp; &#39;tea&#39;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
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

/// JSON that is also safe inside an HTML `<script>` element and in JavaScript source: the
/// characters that could end the element, start a comment or end a JavaScript line (`<`,
/// `>`, `&`, U+2028, U+2029) are written as `\u` escapes, which mean the same inside a JSON
/// (and JavaScript) string.
///
/// ```
/// let value = serde_json::json!({ "name": "</script><b>" });
/// assert_eq!(xorpay::html::embed_json(&value), r#"{"name":"\u003c/script\u003e\u003cb\u003e"}"#);
/// ```
pub fn embed_json(value: &serde_json::Value) -> String {
    let json = value.to_string();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}
