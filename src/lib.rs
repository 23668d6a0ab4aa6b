#![doc = include_str!("../README.md")]

pub use xorpay_core::*;

/// XorPay's protocol as xorpay-rs relies on it, in the project's own words: endpoints,
/// signature formulas, status codes, notification rules and quirks, each with its source and
/// how far it can be trusted. Doc comments cite its sections by number (the repository's
/// `docs/protocol.md`).
// The page tags its sources `[D-native]`, `[DUMP notify]`: text, not links.
#[allow(rustdoc::broken_intra_doc_links)]
#[doc = include_str!("../docs/protocol.md")]
pub mod protocol {}

/// Everything an application names when it derives and signs orders:
/// `use xorpay::prelude::*;` brings the derive, its trait and the signing traits.
pub mod prelude {
    pub use xorpay_core::prelude::*;
    pub use xorpay_derive::XorPayOrder;
}

/// Derives [`XorPayOrder`](trait@XorPayOrder) for a merchant's own order struct, so that it
/// can be signed and sent as a XorPay payment request.
///
/// ```
/// use xorpay::{AppSecret, Price, Signable, XorPayOrder};
///
/// #[derive(XorPayOrder)]
/// #[xorpay(kind = jsapi, notify_url = "https://shop.example.com/xorpay/notify")]
/// struct ShopOrder {
///     #[xorpay(order_id)]
///     id: u64,
///     #[xorpay(name)]
///     title: String,
///     #[xorpay(price)]
///     total: Price,
///     #[xorpay(openid)]
///     buyer: String,
///     #[xorpay(more)]
///     note: Option<String>,
///     // Fields without `#[xorpay]` are the application's own and are left alone.
///     items: Vec<String>,
/// }
///
/// let order = ShopOrder {
///     id: 42,
///     title: "会员月卡".into(),
///     total: "19.90".parse()?,
///     buyer: "o-from-xorpay".into(),
///     note: None,
///     items: vec![],
/// };
/// let secret = AppSecret::new("0123456789abcdef0123456789abcdef")?;
/// let request = order.to_request(&secret)?;
/// assert!(request.body().starts_with("name=%E4%BC%9A%E5%91%98%E6%9C%88%E5%8D%A1&pay_type=jsapi&price=19.90&order_id=42&"));
/// assert_eq!(order.kind().signature_fields(), ["name", "pay_type", "price", "order_id", "notify_url", "app_secret"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Struct attributes
///
/// - `#[xorpay(kind = …)]` (required): the request kind, one of `native` (WeChat QR),
///   `jsapi` (WeChat in-browser), `alipay` (Alipay QR), `mini_program` (the merchant's own
///   mini program), `cashier` (XorPay's cashier page), `wechat_barcode` and `alipay_barcode`
///   (a scanned payment code).
/// - `#[xorpay(notify_url = "https://…")]`: one notification URL for every order of this type.
///   Or `#[xorpay(notify_url = from_client)]`: the order is signed with the `notify_url` given
///   to `Payments::builder()`, the URL its router serves (the usual choice). Or neither, and a
///   field carries `#[xorpay(notify_url)]`. Exactly one of the three is required; the service
///   refuses to check out an order whose own URL is not its notify URL.
/// - `#[xorpay(appid = "wx…")]`: the mini program's appid, for `kind = mini_program`, when it
///   is not in a field.
/// - `#[xorpay(crate = path::to::xorpay)]`: where generated code finds this crate, for crates
///   that re-export `xorpay` under another name.
///
/// # Field attributes
///
/// Each maps one field to one protocol field; fields without one are ignored. There is no
/// mapping by field name: an existing order type often has a field called `name` or `id` that
/// means something else, and a misspelt implicit name would silently drop a field.
///
/// - `#[xorpay(name)]`: the product name shown to the payer. Required.
/// - `#[xorpay(price)]`: the amount, a [`Price`]. Required; a float is a compile error.
/// - `#[xorpay(order_id)]`: your unique order number. Required.
/// - `#[xorpay(notify_url)]`: the notification URL, when it differs per order.
/// - `#[xorpay(openid)]`: the payer's openid from XorPay's openid redirect. Required for `jsapi`
///   and `mini_program`, refused elsewhere.
/// - `#[xorpay(barcode)]`: the scanned payment code. Required for the barcode kinds, refused
///   elsewhere.
/// - `#[xorpay(appid)]`: the mini program's appid (`mini_program` only).
/// - `#[xorpay(order_uid)]`, `#[xorpay(more)]`: your user label and a free text echoed in the
///   notification. Optional, unsigned.
/// - `#[xorpay(expire)]`: the order lifetime in seconds (`u32`, `u64` or `Duration`). Not for
///   barcodes.
/// - `#[xorpay(return_url)]` (`jsapi`, `cashier`) and `#[xorpay(cancel_url)]` (`cashier`).
///
/// Text fields take any `Display` type: `String`, `&str`, `Cow<str>`, integers. Optional
/// protocol fields may be `Option<…>` (recognised by the type's name); required ones may not.
///
/// # Several kinds of payment in one order type
///
/// A shop that shows a QR code on a desktop and opens WeChat Pay inside WeChat derives each
/// kind's struct as above, then derives `XorPayOrder` on an enum whose variants each hold one
/// of them. One `Payments` takes the enum, and one notify route serves every kind. Each
/// struct keeps its own checks: the `jsapi` one still does not compile without an `openid`.
/// The enum takes no `#[xorpay(...)]` of its own (only `crate = …`), and every variant's
/// struct must take its `notify_url` from the same place.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use xorpay::prelude::*;
///
/// #[derive(XorPayOrder, Serialize, Deserialize)]
/// #[xorpay(kind = native, notify_url = from_client)]
/// struct QrOrder {
///     #[xorpay(order_id)] id: String,
///     #[xorpay(name)] title: String,
///     #[xorpay(price)] price: Price,
/// }
///
/// #[derive(XorPayOrder, Serialize, Deserialize)]
/// #[xorpay(kind = jsapi, notify_url = from_client)]
/// struct WeChatOrder {
///     #[xorpay(order_id)] id: String,
///     #[xorpay(name)] title: String,
///     #[xorpay(price)] price: Price,
///     #[xorpay(openid)] openid: String,
/// }
///
/// #[derive(XorPayOrder, Serialize, Deserialize)]
/// enum ShopOrder {
///     Qr(QrOrder),
///     WeChat(WeChatOrder),
/// }
///
/// let order = ShopOrder::Qr(QrOrder { id: "A-1".into(), title: "Tea".into(), price: "9.90".parse()? });
/// assert_eq!(order.kind(), xorpay::RequestKind::Native);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Why an enum and not a kind chosen at run time: the kind decides which fields the request
/// needs (an `openid` for `jsapi`, a `barcode` for the barcode kinds), and only a struct per
/// kind lets the compiler check them; the enum is a closed set of such structs, which the
/// shop matches on as it matches on its own types. Pick the variant with
/// [`payer::kind_for`].
///
/// # What is generated
///
/// An impl of [`XorPayOrder`](trait@XorPayOrder) whose hidden visit method lists the signed
/// values in the protocol's order (`name + pay_type + price + order_id + notify_url`, then
/// `barcode` for barcodes), whatever the order of the struct's fields, followed by the unsigned
/// ones. [`Signable::signature`] hashes them without allocating; [`Signable::to_request`]
/// writes the form body and the signature from the same bytes; and
/// [`Signable::explain_signature`] lists them, secret redacted, for the day XorPay answers
/// `sign_error` anyway.
pub use xorpay_derive::XorPayOrder;
