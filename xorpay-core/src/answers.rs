//! XorPay's JSON answers, read leniently where XorPay is inconsistent and strictly where money
//! is concerned.
//!
//! Quirks handled here (docs/protocol.md §1.2, §3.6, §8): the lifetime field is `expires_in`
//! in practice and `expire_in` in the docs' tables (both are accepted); `info` is an object on
//! success and a string on some errors; keys nobody documented (`paid`, `success`) are
//! ignored. This module does no HTTP: the client's transport hands it bytes. It is the
//! crate's own; [`check_answers`] runs every parser for the fuzz target and the property
//! tests.

use serde::Deserialize;

use crate::response::{Aoid, PaymentInfo};
use crate::status::{
    ApiError, BarcodeOutcome, BarcodeStatus, PayStatus, QueryStatus, RefundStatus,
};

/// `info` in a response: an object on success, a string on some errors, and read as
/// anything else rather than losing the `status` beside it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Info {
    /// The object form (`{"qr": …}` or the JSAPI fields).
    Object(serde_json::Map<String, serde_json::Value>),
    /// The string form, e.g. Alipay's error code.
    Text(String),
    /// Any other JSON value.
    Other(serde_json::Value),
}

impl Info {
    fn into_text(self) -> Option<String> {
        match self {
            Info::Text(text) => Some(text),
            Info::Object(object) => Some(serde_json::Value::Object(object).to_string()),
            Info::Other(serde_json::Value::Null) => None,
            Info::Other(value) => Some(value.to_string()),
        }
    }
}

/// Reads a number of seconds sent as a JSON number or as a string of digits; anything else
/// is treated as absent rather than failing the whole answer.
fn lenient_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    })
}

/// A response XorPay sent that does not have the promised shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ResponseError {
    /// XorPay refused the request.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The body is not the JSON this endpoint answers with.
    #[error("xorpay answered malformed json: {0}")]
    Json(String),
    /// `status` is `ok` but a field that must come with it is missing or invalid.
    #[error("xorpay answered ok without a valid `{0}`")]
    Missing(&'static str),
}

/// The answer of `/api/pay/{aid}`, as sent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct CreateOrderResponse {
    /// The status code.
    pub(crate) status: PayStatus,
    /// XorPay's order id, present on `ok`.
    #[serde(default)]
    pub(crate) aoid: Option<String>,
    /// The order lifetime in seconds, as the docs' examples and real answers spell it.
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub(crate) expires_in: Option<u64>,
    /// The order lifetime in seconds, as the docs' tables spell it (docs/protocol.md §3.6).
    #[serde(default, deserialize_with = "lenient_seconds")]
    pub(crate) expire_in: Option<u64>,
    /// `info`: an object on success, maybe a string on errors.
    #[serde(default)]
    pub(crate) info: Option<Info>,
}

/// A successfully created order, as XorPay answered: only
/// [`CreateOrderResponse::into_result`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreatedOrder {
    aoid: Aoid,
    expires_in: Option<u64>,
    payment: PaymentInfo,
}

impl CreatedOrder {
    /// XorPay's order id.
    #[cfg(test)]
    pub(crate) fn aoid(&self) -> &Aoid {
        &self.aoid
    }

    /// Seconds until the order expires, if XorPay said (its default is
    /// [`DEFAULT_EXPIRE_SECS`]).
    pub(crate) fn expires_in(&self) -> Option<u64> {
        self.expires_in
    }

    /// What to show the payer.
    #[cfg(test)]
    pub(crate) fn payment(&self) -> &PaymentInfo {
        &self.payment
    }

    pub(crate) fn into_parts(self) -> (Aoid, PaymentInfo) {
        (self.aoid, self.payment)
    }
}

impl CreateOrderResponse {
    /// Parses the JSON body.
    ///
    /// # Errors
    /// [`ResponseError::Json`] when the body is not such a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<CreateOrderResponse, ResponseError> {
        serde_json::from_slice(body).map_err(|error| ResponseError::Json(error.to_string()))
    }

    /// The order lifetime: `expires_in` as sent in practice, else `expire_in` as the docs'
    /// tables name it.
    pub(crate) fn expires_in(&self) -> Option<u64> {
        self.expires_in.or(self.expire_in)
    }

    /// The created order, or why there is none.
    ///
    /// # Errors
    /// [`ResponseError::Api`] for every status but `ok`; [`ResponseError::Missing`] when `ok`
    /// comes without a valid `aoid` or `info`.
    pub(crate) fn into_result(self) -> Result<CreatedOrder, ResponseError> {
        let expires_in = self.expires_in();
        self.status
            .into_result(self.info.clone().and_then(Info::into_text))?;
        let aoid = self
            .aoid
            .and_then(|aoid| Aoid::new(aoid).ok())
            .ok_or(ResponseError::Missing("aoid"))?;
        let Some(Info::Object(mut info)) = self.info else {
            return Err(ResponseError::Missing("info"));
        };
        let payment = match info.remove("qr") {
            Some(serde_json::Value::String(qr)) => PaymentInfo::Qr(qr),
            Some(_) => return Err(ResponseError::Missing("info.qr")),
            None => PaymentInfo::Jsapi(
                serde_json::from_value(serde_json::Value::Object(info))
                    .map_err(|_| ResponseError::Missing("info (the six JSAPI fields)"))?,
            ),
        };
        Ok(CreatedOrder {
            aoid,
            expires_in,
            payment,
        })
    }
}

/// The answer of `/api/barcode_pay/{aid}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct BarcodeResponse {
    /// The status code.
    pub(crate) status: BarcodeStatus,
    /// XorPay's order id, on `success` and `new`.
    #[serde(default)]
    pub(crate) aoid: Option<String>,
    /// On `success`: the payment detail, a JSON string (docs/protocol.md §6.5).
    #[serde(default)]
    pub(crate) detail: Option<serde_json::Value>,
    /// `info`, on some errors.
    #[serde(default)]
    pub(crate) info: Option<Info>,
}

/// An accepted barcode payment, as XorPay answered: only [`BarcodeResponse::into_result`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BarcodePayment {
    aoid: Aoid,
    outcome: BarcodeOutcome,
}

impl BarcodePayment {
    /// Paid at once, or waiting for the customer.
    pub(crate) fn outcome(&self) -> BarcodeOutcome {
        self.outcome
    }

    pub(crate) fn into_aoid(self) -> Aoid {
        self.aoid
    }
}

impl BarcodeResponse {
    /// Parses the JSON body.
    ///
    /// # Errors
    /// [`ResponseError::Json`] when the body is not such a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<BarcodeResponse, ResponseError> {
        serde_json::from_slice(body).map_err(|error| ResponseError::Json(error.to_string()))
    }

    /// The accepted payment, or why it failed.
    ///
    /// # Errors
    /// [`ResponseError::Api`] for a refusal or a failed payment; [`ResponseError::Missing`]
    /// when an accepted payment comes without a valid `aoid`.
    pub(crate) fn into_result(self) -> Result<BarcodePayment, ResponseError> {
        let outcome = self
            .status
            .into_result(self.info.and_then(Info::into_text))?;
        let aoid = self
            .aoid
            .and_then(|aoid| Aoid::new(aoid).ok())
            .ok_or(ResponseError::Missing("aoid"))?;
        Ok(BarcodePayment { aoid, outcome })
    }
}

/// The answer of `/api/query/{aoid}` and `/api/query2/{aid}`: only a status is documented.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct QueryResponse {
    /// The order's state.
    pub(crate) status: QueryStatus,
}

impl QueryResponse {
    /// Parses the JSON body.
    ///
    /// # Errors
    /// [`ResponseError::Json`] when the body is not such a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<QueryResponse, ResponseError> {
        serde_json::from_slice(body).map_err(|error| ResponseError::Json(error.to_string()))
    }
}

/// The answer of `/api/refund/{aoid}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct RefundResponse {
    /// The status code.
    pub(crate) status: RefundStatus,
    /// `info`: the upstream error code, if any.
    #[serde(default)]
    pub(crate) info: Option<Info>,
}

impl RefundResponse {
    /// Parses the JSON body.
    ///
    /// # Errors
    /// [`ResponseError::Json`] when the body is not such a JSON object.
    pub(crate) fn from_json(body: &[u8]) -> Result<RefundResponse, ResponseError> {
        serde_json::from_slice(body).map_err(|error| ResponseError::Json(error.to_string()))
    }

    /// `Ok(())` when refunded.
    ///
    /// # Errors
    /// [`ResponseError::Api`] for every status but `ok`.
    pub(crate) fn into_result(self) -> Result<(), ResponseError> {
        Ok(self
            .status
            .into_result(self.info.and_then(Info::into_text))?)
    }
}

/// Runs every answer parser on `body` and checks what holds for any input: nothing panics,
/// and a successful answer carries a usable `aoid`. For the fuzz target and the property
/// tests (`xorpay::__private::check_answers`); panics when a property does not hold.
pub fn check_answers(body: &[u8]) {
    if let Ok(answer) = CreateOrderResponse::from_json(body) {
        let _ = format!("{answer:?}");
        if let Ok(order) = answer.into_result() {
            let _ = format!("{:?}", order.payment);
            let (aoid, _) = order.into_parts();
            assert!(Aoid::new(aoid.as_str()).is_ok(), "{aoid:?}");
        }
    }
    if let Ok(answer) = BarcodeResponse::from_json(body) {
        let _ = format!("{answer:?}");
        if let Ok(payment) = answer.into_result() {
            let _ = payment.outcome();
            let aoid = payment.into_aoid();
            assert!(Aoid::new(aoid.as_str()).is_ok(), "{aoid:?}");
        }
    }
    if let Ok(answer) = QueryResponse::from_json(body) {
        let _ = format!("{answer:?}");
    }
    if let Ok(answer) = RefundResponse::from_json(body) {
        let _ = format!("{answer:?}");
        let _ = answer.into_result().map_err(|error| error.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSAPI_OK: &str = r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1",
        "expire_in":600,"info":{"appId":"wx2421b1c4370ec43b","timeStamp":"1395712654",
        "nonceStr":"e61463f8efa94090b1f366cccfbbb444","package":"prepay_id=u802345jgfjsdfgsdg888",
        "signType":"MD5","paySign":"70EA570631E4BB79628FBCA90534C63FF7FADD89"}}"#;

    #[test]
    fn jsapi_answer_with_the_tables_expire_in_spelling() {
        let order = CreateOrderResponse::from_json(JSAPI_OK.as_bytes())
            .unwrap()
            .into_result()
            .unwrap();
        assert_eq!(order.expires_in(), Some(600));
        assert_eq!(order.aoid().as_str(), "e19c8c8673ba42419043fc92b99303c1");
        let PaymentInfo::Jsapi(params) = order.payment().clone() else {
            panic!("expected jsapi params")
        };
        assert_eq!(params.package, "prepay_id=u802345jgfjsdfgsdg888");
        assert_eq!(params.time_stamp, "1395712654");
    }

    #[test]
    fn both_lifetime_spellings_and_a_numeric_timestamp() {
        let body = r#"{"status":"ok","aoid":"a1","expires_in":30,"expire_in":99,"info":{"appId":"wx1",
            "timeStamp":1395712654,"nonceStr":"n","package":"prepay_id=p","signType":"MD5","paySign":"s"}}"#;
        let response = CreateOrderResponse::from_json(body.as_bytes()).unwrap();
        assert_eq!(response.expires_in(), Some(30));
        let order = response.into_result().unwrap();
        let PaymentInfo::Jsapi(params) = order.payment().clone() else {
            panic!("expected jsapi params")
        };
        assert_eq!(params.time_stamp, "1395712654");
    }

    #[test]
    fn jsapi_params_serialise_with_wechats_six_names() {
        let response = CreateOrderResponse::from_json(JSAPI_OK.as_bytes()).unwrap();
        let PaymentInfo::Jsapi(params) = response.into_result().unwrap().payment().clone() else {
            panic!("expected jsapi params")
        };
        let json = serde_json::to_value(&params).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "appId",
                "nonceStr",
                "package",
                "paySign",
                "signType",
                "timeStamp"
            ]
        );
    }

    #[test]
    fn odd_shapes_keep_the_status() {
        let body = br#"{"status":"fee_error","expires_in":"7200","info":42}"#;
        let response = CreateOrderResponse::from_json(body).unwrap();
        assert_eq!(response.expires_in(), Some(7200));
        assert_eq!(
            response.into_result(),
            Err(ResponseError::Api(ApiError::FeeError))
        );
        let body = br#"{"status":"wechat_api_error","expires_in":null,"info":[1]}"#;
        assert_eq!(
            CreateOrderResponse::from_json(body).unwrap().into_result(),
            Err(ResponseError::Api(ApiError::WechatApiError {
                info: Some("[1]".into())
            }))
        );
    }

    #[test]
    fn error_with_string_info_becomes_a_typed_error() {
        let body = br#"{"status":"alipay_api_error","info":"ACQ.ACCESS_FORBIDDEN"}"#;
        let error = CreateOrderResponse::from_json(body)
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(
            error,
            ResponseError::Api(ApiError::AlipayApiError {
                info: Some("ACQ.ACCESS_FORBIDDEN".into())
            })
        );
    }

    #[test]
    fn ok_without_aoid_or_info_is_malformed_not_a_success() {
        let missing_aoid = br#"{"status":"ok","info":{"qr":"weixin://x"}}"#;
        assert_eq!(
            CreateOrderResponse::from_json(missing_aoid)
                .unwrap()
                .into_result(),
            Err(ResponseError::Missing("aoid"))
        );
        let text_info = br#"{"status":"ok","aoid":"abc","info":"what"}"#;
        assert_eq!(
            CreateOrderResponse::from_json(text_info)
                .unwrap()
                .into_result(),
            Err(ResponseError::Missing("info"))
        );
        let bad_aoid = br#"{"status":"ok","aoid":"../../x","info":{"qr":"weixin://x"}}"#;
        assert_eq!(
            CreateOrderResponse::from_json(bad_aoid)
                .unwrap()
                .into_result(),
            Err(ResponseError::Missing("aoid"))
        );
        assert!(matches!(
            CreateOrderResponse::from_json(b"<html>502</html>"),
            Err(ResponseError::Json(_))
        ));
    }

    #[test]
    fn barcode_refund_and_query_answers() {
        let paid = BarcodeResponse::from_json(
            br#"{"status":"success","aoid":"abc","detail":"{\"bank_type\":\"ALIPAYACCOUNT\"}"}"#,
        )
        .unwrap()
        .into_result()
        .unwrap();
        assert_eq!(paid.outcome(), BarcodeOutcome::Paid);
        let failed = BarcodeResponse::from_json(br#"{"status":"AUTH_CODE_INVALID"}"#)
            .unwrap()
            .into_result();
        assert!(matches!(
            failed,
            Err(ResponseError::Api(ApiError::BarcodeFailed { .. }))
        ));
        assert_eq!(
            RefundResponse::from_json(br#"{"status":"price_error"}"#)
                .unwrap()
                .into_result(),
            Err(ResponseError::Api(ApiError::PriceError { info: None }))
        );
        assert_eq!(
            QueryResponse::from_json(br#"{"status":"payed"}"#)
                .unwrap()
                .status,
            QueryStatus::Payed
        );
    }
}
