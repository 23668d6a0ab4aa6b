//! What XorPay gives back for an order: its id ([`Aoid`]) and what the payer needs to pay
//! ([`PaymentInfo`]: a QR text, the JSAPI parameters, the cashier page, or a barcode's first
//! answer).
//!
//! Reading XorPay's JSON answers is the client's job (`client/answers.rs`); this module only
//! holds what a paid or pending order keeps.

use core::fmt;

use serde::{Deserialize, Serialize};

use crate::credentials::all_path_safe;
use crate::request::RequestError;
use crate::status::BarcodeOutcome;

/// XorPay's own order id (`aoid`), which goes into the query and refund URLs.
///
/// Every real one is 32 hex characters; this type accepts up to 64 ASCII letters, digits,
/// `-` or `_`, so it can always sit in a URL path unescaped. It is held inline, without an
/// allocation: one is read from every notification.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Aoid {
    /// The aoid's bytes, then zeros.
    bytes: [u8; Aoid::MAX_LEN],
    /// How many of `bytes` are the aoid's (1 to [`Aoid::MAX_LEN`]).
    len: u8,
}

impl Aoid {
    /// The longest aoid accepted, in bytes.
    const MAX_LEN: usize = 64;

    /// Checks and wraps an aoid (as read on XorPay's dashboard, say).
    ///
    /// # Errors
    /// [`RequestError::InvalidValue`] when it is empty, longer than 64 or has characters other
    /// than ASCII letters, digits, `-` and `_`.
    pub fn new(aoid: impl AsRef<str>) -> Result<Aoid, RequestError> {
        let text = aoid.as_ref().as_bytes();
        let mut bytes = [0; Aoid::MAX_LEN];
        match (bytes.get_mut(..text.len()), u8::try_from(text.len())) {
            (Some(slot), Ok(len)) if len > 0 && all_path_safe(text) => {
                slot.copy_from_slice(text);
                Ok(Aoid { bytes, len })
            }
            _ => Err(RequestError::InvalidValue {
                field: "aoid",
                reason: "an aoid is 1 to 64 ASCII letters, digits, '-' or '_' (XorPay's are 32 \
                         hex digits)",
            }),
        }
    }

    /// The aoid as text.
    pub fn as_str(&self) -> &str {
        // Only path-safe ASCII is ever stored.
        core::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl PartialEq for Aoid {
    fn eq(&self, other: &Aoid) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Aoid {}

impl core::hash::Hash for Aoid {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialOrd for Aoid {
    fn partial_cmp(&self, other: &Aoid) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Aoid {
    fn cmp(&self, other: &Aoid) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl TryFrom<String> for Aoid {
    type Error = RequestError;
    fn try_from(aoid: String) -> Result<Aoid, RequestError> {
        Aoid::new(aoid)
    }
}

impl From<Aoid> for String {
    fn from(aoid: Aoid) -> String {
        aoid.as_str().to_owned()
    }
}

impl fmt::Display for Aoid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Aoid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Aoid").field(&self.as_str()).finish()
    }
}

/// The six parameters of `WeixinJSBridge.invoke('getBrandWCPayRequest', …)`, exactly as
/// XorPay returns them in `info` for a JSAPI order, with WeChat's field names on the wire.
///
/// Pass them unchanged to the page ([`crate::jsapi::BridgeScript`]) or, in a mini program, to
/// `wx.requestPayment`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JsapiParams {
    /// `appId`: the official account's app id (`wx` + 16 characters).
    #[serde(rename = "appId")]
    pub app_id: String,
    /// `timeStamp`: Unix seconds, as a string. A JSON number is accepted and kept as its
    /// digits, because WeChat requires a string.
    #[serde(rename = "timeStamp", deserialize_with = "string_or_integer")]
    pub time_stamp: String,
    /// `nonceStr`: a random string.
    #[serde(rename = "nonceStr")]
    pub nonce_str: String,
    /// `package`: `prepay_id=…`.
    #[serde(rename = "package")]
    pub package: String,
    /// `signType`: `MD5` in XorPay's examples.
    #[serde(rename = "signType")]
    pub sign_type: String,
    /// `paySign`: WeChat's signature over the other five.
    #[serde(rename = "paySign")]
    pub pay_sign: String,
}

fn string_or_integer<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Integer(u64),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Text(text) => text,
        Either::Integer(number) => number.to_string(),
    })
}

/// What a submitted order gives the payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PaymentInfo {
    /// Native and Alipay orders: the text to render as a QR code (`weixin://…` or
    /// `https://qr.alipay.com/…`).
    Qr(String),
    /// JSAPI and mini-program orders: the bridge parameters.
    Jsapi(JsapiParams),
    /// Cashier orders: the payer pays on XorPay's cashier page; send their browser there.
    Cashier(CashierPage),
    /// Barcode payments: XorPay's immediate answer.
    Barcode(BarcodeOutcome),
}

/// XorPay's cashier page for one order: a signed URL, and the same as an auto-submitting
/// form, to send the payer's browser to (docs/protocol.md §4.2). It is a page, not an API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CashierPage {
    /// The signed `GET` URL.
    pub url: String,
    /// A small HTML document whose form posts the signed parameters when loaded.
    pub form_html: String,
}

/// XorPay's default order lifetime in seconds (docs/protocol.md §6.3).
pub const DEFAULT_EXPIRE_SECS: u64 = 7200;
