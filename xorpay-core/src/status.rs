//! XorPay's status codes (docs/protocol.md §5): one open enum per endpoint, and [`ApiError`], the
//! typed error for every code that means "refused".
//!
//! Every response of XorPay carries a `status` string. The set differs per endpoint, the docs
//! are not complete (barcode payments pass raw upstream codes such as `AUTH_CODE_INVALID`
//! through), and XorPay may add codes at any time. So each enum keeps a code it does not know
//! as `Unknown(String)` instead of failing to parse the response.

use core::fmt;

macro_rules! status_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $code:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )*
            /// A code this version of xorpay-rs does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Reads a wire code; an unknown code becomes `Unknown`.
            pub fn from_code(code: &str) -> $name {
                match code {
                    $( $code => $name::$variant, )*
                    other => $name::Unknown(other.to_owned()),
                }
            }

            /// The wire code, e.g. `"sign_error"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $code, )*
                    $name::Unknown(code) => code,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let code = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                Ok($name::from_code(&code))
            }
        }
    };
}

status_enum! {
    /// The `status` of the create-order endpoint `/api/pay/{aid}` (native, jsapi, alipay, mini
    /// program). The cashier answers its errors with the same codes.
    pub enum PayStatus {
        /// `ok`: the order was created (成功).
        Ok = "ok",
        /// `missing_argument`: a required parameter is missing (缺少参数).
        MissingArgument = "missing_argument",
        /// `app_off`: the merchant account is frozen (账号被冻结).
        AppOff = "app_off",
        /// `aid_not_exist`: no such aid (aid 不存在).
        AidNotExist = "aid_not_exist",
        /// `pay_type_error`: the pay type is unknown or not enabled (支付类型错误).
        PayTypeError = "pay_type_error",
        /// `sign_error`: the signature does not match (签名错误).
        SignError = "sign_error",
        /// `order_payed`: this order_id is already paid (订单已支付).
        OrderPayed = "order_payed",
        /// `order_expire`: this order_id has expired (订单已过期).
        OrderExpire = "order_expire",
        /// `wechat_api_error`: WeChat refused the call, often risk control (微信接口错误).
        WechatApiError = "wechat_api_error",
        /// `alipay_api_error`: Alipay refused the call; `info` holds Alipay's code (支付宝接口错误).
        AlipayApiError = "alipay_api_error",
        /// `fee_error`: the merchant's prepaid XorPay balance is too low (余额不足).
        FeeError = "fee_error",
        /// `order_exist`: the order_id was used with different parameters (订单已存在).
        OrderExist = "order_exist",
        /// `invalid_openid`: the openid was not obtained through XorPay (openid 无效).
        InvalidOpenid = "invalid_openid",
        /// `no_contract`: the merchant has not signed up (未签约).
        NoContract = "no_contract",
        /// `no_alipay_contract`: the merchant has no Alipay contract (未签约支付宝).
        NoAlipayContract = "no_alipay_contract",
    }
}

status_enum! {
    /// The `status` of the barcode endpoint `/api/barcode_pay/{aid}`.
    ///
    /// Besides these, a failed payment comes back with the upstream channel's own code
    /// (e.g. `AUTH_CODE_INVALID`), kept as `Unknown`: the customer must refresh their code and
    /// a new order must be created.
    pub enum BarcodeStatus {
        /// `success`: paid at once, e.g. a small password-free payment (支付成功).
        Success = "success",
        /// `new`: waiting for the customer, e.g. to enter a password; the notification follows
        /// (等待用户支付).
        New = "new",
        /// `missing_argument`: a required parameter is missing (缺少参数).
        MissingArgument = "missing_argument",
        /// `app_off`: the merchant account is frozen (账号被冻结).
        AppOff = "app_off",
        /// `aid_not_exist`: no such aid (aid 不存在).
        AidNotExist = "aid_not_exist",
        /// `pay_type_error`: the pay type is unknown or not enabled (支付类型错误).
        PayTypeError = "pay_type_error",
        /// `sign_error`: the signature does not match (签名错误).
        SignError = "sign_error",
        /// `order_payed`: this order_id is already paid (订单已支付).
        OrderPayed = "order_payed",
        /// `order_expire`: this order_id has expired (订单已过期).
        OrderExpire = "order_expire",
        /// `wechat_api_error`: WeChat refused the call (微信接口错误).
        WechatApiError = "wechat_api_error",
        /// `alipay_api_error`: Alipay refused the call (支付宝接口错误).
        AlipayApiError = "alipay_api_error",
        /// `fee_error`: the merchant's prepaid XorPay balance is too low (余额不足).
        FeeError = "fee_error",
        /// `order_exist`: the order_id was used with different parameters (订单已存在).
        OrderExist = "order_exist",
        /// `no_contract`: the merchant has not signed up (未签约).
        NoContract = "no_contract",
        /// `no_alipay_contract`: the merchant has no Alipay contract (未签约支付宝).
        NoAlipayContract = "no_alipay_contract",
    }
}

status_enum! {
    /// The `status` of the query endpoints `/api/query/{aoid}` and `/api/query2/{aid}`: the
    /// state of an order.
    pub enum QueryStatus {
        /// `not_exist`: no such order (订单不存在).
        NotExist = "not_exist",
        /// `new`: created, not paid (未支付).
        New = "new",
        /// `payed` (sic): paid, the notification not yet acknowledged (已支付，通知未确认).
        Payed = "payed",
        /// `fee_error`: paid, but XorPay could not take its fee from the merchant's prepaid
        /// balance (扣费失败).
        FeeError = "fee_error",
        /// `success`: paid and the notification acknowledged (支付成功，通知已确认).
        Success = "success",
        /// `expire`: expired unpaid (已过期).
        Expire = "expire",
        /// `sign_error`: query2 only, the signature does not match. Not documented; the
        /// natural guess of docs/protocol.md §4.5.
        SignError = "sign_error",
    }
}

status_enum! {
    /// The `status` of the refund endpoint `/api/refund/{aoid}`.
    pub enum RefundStatus {
        /// `ok`: refunded (退款成功).
        Ok = "ok",
        /// `order_error`: the order does not exist or is not in `success` (订单状态错误).
        OrderError = "order_error",
        /// `price_error`: the amount exceeds what was received (退款金额错误).
        PriceError = "price_error",
        /// `sign_error`: the signature does not match (签名错误).
        SignError = "sign_error",
        /// `alipay_api_error`: Alipay refused the refund; `info` holds its code (支付宝接口错误).
        AlipayApiError = "alipay_api_error",
    }
}

/// Whether sending the same request again can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Retry {
    /// The cause is on XorPay's or the channel's side and may pass: retrying later can help.
    Later,
    /// The merchant must act first (top up the balance, sign a contract, ask support), then the
    /// same request can succeed.
    AfterMerchantAction,
    /// The request or the order's state is wrong: the same request will fail again.
    Never,
}

/// XorPay refused a request: one variant per status code that means failure.
///
/// Each variant's documentation gives the code, its Chinese meaning and what to do;
/// [`ApiError::retry`] says whether retrying can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// `missing_argument` (缺少参数): a required parameter was not sent. A bug in the request.
    #[error("xorpay: a required parameter is missing (missing_argument)")]
    MissingArgument,
    /// `app_off` (账号被冻结): the merchant account is frozen; contact XorPay support.
    #[error("xorpay: the merchant account is frozen (app_off)")]
    AppOff,
    /// `aid_not_exist` (aid 不存在): the configured aid is wrong.
    #[error("xorpay: the aid does not exist (aid_not_exist)")]
    AidNotExist,
    /// `pay_type_error` (支付类型错误): the pay type is unknown or not enabled for this account.
    #[error("xorpay: the pay type is not available to this account (pay_type_error)")]
    PayTypeError,
    /// `sign_error` (签名错误): the signature does not match. Check the app secret, and that
    /// the signed values are exactly the values sent.
    #[error("xorpay: the signature does not match; check the app secret (sign_error)")]
    SignError,
    /// `order_payed` (订单已支付): this order_id is already paid. Do not create it again; query it.
    #[error("xorpay: this order_id is already paid (order_payed)")]
    OrderPayed,
    /// `order_expire` (订单已过期): this order_id has expired; create a new order with a new id.
    #[error("xorpay: this order_id has expired (order_expire)")]
    OrderExpire,
    /// `wechat_api_error` (微信接口错误): WeChat refused the call; often risk control (风控).
    #[error("xorpay: wechat refused the call (wechat_api_error{})", info_suffix(.info))]
    WechatApiError {
        /// XorPay's `info`, if any.
        info: Option<String>,
    },
    /// `alipay_api_error` (支付宝接口错误): Alipay refused the call. `info` is Alipay's code:
    /// `ACQ.ACCESS_FORBIDDEN` means the merchant must sign the contract link in Alipay's email,
    /// `aop.invalid-app-auth-token` means contact XorPay support.
    #[error("xorpay: alipay refused the call (alipay_api_error{})", info_suffix(.info))]
    AlipayApiError {
        /// XorPay's `info`: Alipay's error code, if any.
        info: Option<String>,
    },
    /// `fee_error` (余额不足): the merchant's prepaid XorPay balance cannot cover the fee; top
    /// it up.
    #[error("xorpay: the merchant's prepaid balance is too low (fee_error)")]
    FeeError,
    /// `order_exist` (订单已存在): this order_id was already used with different parameters.
    #[error("xorpay: this order_id exists with different parameters (order_exist)")]
    OrderExist,
    /// `invalid_openid` (openid 无效): the openid did not come from XorPay's openid endpoint.
    #[error("xorpay: the openid was not obtained through xorpay (invalid_openid)")]
    InvalidOpenid,
    /// `no_contract` (未签约): the merchant has not signed up for this channel.
    #[error("xorpay: the merchant has not signed up (no_contract)")]
    NoContract,
    /// `no_alipay_contract` (未签约支付宝): the merchant has no Alipay contract.
    #[error("xorpay: the merchant has no alipay contract (no_alipay_contract)")]
    NoAlipayContract,
    /// `order_error` (订单状态错误), refunds: the order does not exist or is not in `success`.
    /// A paid order reaches `success` once its notification is acknowledged, so a refund
    /// right after payment can succeed later.
    #[error("xorpay: the order cannot be refunded in its state (order_error{})", info_suffix(.info))]
    OrderError {
        /// XorPay's `info`, if any.
        info: Option<String>,
    },
    /// `price_error` (退款金额错误), refunds: the amount exceeds what was received.
    #[error("xorpay: the refund exceeds the amount received (price_error{})", info_suffix(.info))]
    PriceError {
        /// XorPay's `info`, if any.
        info: Option<String>,
    },
    /// A barcode payment failed with the channel's own code (e.g. `AUTH_CODE_INVALID`): the
    /// customer must refresh their payment code and a new order must be created.
    #[error("xorpay: the barcode payment failed ({code})")]
    BarcodeFailed {
        /// The upstream code XorPay passed through.
        code: String,
    },
    /// A status this version of xorpay-rs does not know.
    #[error("xorpay: unknown status {code:?}{}", info_suffix(.info))]
    Unknown {
        /// The status code, verbatim.
        code: String,
        /// XorPay's `info`, if any.
        info: Option<String>,
    },
}

fn info_suffix(info: &Option<String>) -> String {
    match info {
        Some(info) => format!(": {info}"),
        None => String::new(),
    }
}

impl ApiError {
    /// Whether sending the same request again can succeed.
    pub fn retry(&self) -> Retry {
        match self {
            ApiError::WechatApiError { .. } | ApiError::OrderError { .. } => Retry::Later,
            ApiError::AlipayApiError { info } => match info.as_deref() {
                Some("ACQ.ACCESS_FORBIDDEN" | "aop.invalid-app-auth-token") => {
                    Retry::AfterMerchantAction
                }
                _ => Retry::Later,
            },
            ApiError::AppOff
            | ApiError::PayTypeError
            | ApiError::FeeError
            | ApiError::NoContract
            | ApiError::NoAlipayContract => Retry::AfterMerchantAction,
            ApiError::MissingArgument
            | ApiError::AidNotExist
            | ApiError::SignError
            | ApiError::OrderPayed
            | ApiError::OrderExpire
            | ApiError::OrderExist
            | ApiError::InvalidOpenid
            | ApiError::PriceError { .. }
            | ApiError::BarcodeFailed { .. }
            | ApiError::Unknown { .. } => Retry::Never,
        }
    }

    /// The wire status code, e.g. `"sign_error"`.
    pub fn code(&self) -> &str {
        match self {
            ApiError::MissingArgument => "missing_argument",
            ApiError::AppOff => "app_off",
            ApiError::AidNotExist => "aid_not_exist",
            ApiError::PayTypeError => "pay_type_error",
            ApiError::SignError => "sign_error",
            ApiError::OrderPayed => "order_payed",
            ApiError::OrderExpire => "order_expire",
            ApiError::WechatApiError { .. } => "wechat_api_error",
            ApiError::AlipayApiError { .. } => "alipay_api_error",
            ApiError::FeeError => "fee_error",
            ApiError::OrderExist => "order_exist",
            ApiError::InvalidOpenid => "invalid_openid",
            ApiError::NoContract => "no_contract",
            ApiError::NoAlipayContract => "no_alipay_contract",
            ApiError::OrderError { .. } => "order_error",
            ApiError::PriceError { .. } => "price_error",
            ApiError::BarcodeFailed { code } | ApiError::Unknown { code, .. } => code,
        }
    }
}

/// The outcome of an accepted barcode payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BarcodeOutcome {
    /// `success`: paid at once.
    Paid,
    /// `new`: the customer is confirming; wait for the notification or query.
    Waiting,
}

impl PayStatus {
    /// `Ok(())` for `ok`, otherwise the matching [`ApiError`], with XorPay's `info` attached
    /// where the code carries one.
    ///
    /// # Errors
    /// The [`ApiError`] for every code but `ok`.
    pub fn into_result(self, info: Option<String>) -> Result<(), ApiError> {
        Err(match self {
            PayStatus::Ok => return Ok(()),
            PayStatus::MissingArgument => ApiError::MissingArgument,
            PayStatus::AppOff => ApiError::AppOff,
            PayStatus::AidNotExist => ApiError::AidNotExist,
            PayStatus::PayTypeError => ApiError::PayTypeError,
            PayStatus::SignError => ApiError::SignError,
            PayStatus::OrderPayed => ApiError::OrderPayed,
            PayStatus::OrderExpire => ApiError::OrderExpire,
            PayStatus::WechatApiError => ApiError::WechatApiError { info },
            PayStatus::AlipayApiError => ApiError::AlipayApiError { info },
            PayStatus::FeeError => ApiError::FeeError,
            PayStatus::OrderExist => ApiError::OrderExist,
            PayStatus::InvalidOpenid => ApiError::InvalidOpenid,
            PayStatus::NoContract => ApiError::NoContract,
            PayStatus::NoAlipayContract => ApiError::NoAlipayContract,
            PayStatus::Unknown(code) => ApiError::Unknown { code, info },
        })
    }
}

impl BarcodeStatus {
    /// `success` and `new` are accepted payments; every other code is an [`ApiError`].
    ///
    /// An unknown code in upper case (`AUTH_CODE_INVALID`, `ACQ.PAYMENT_AUTH_CODE_INVALID`) is
    /// the payment channel's own failure, passed through ([`ApiError::BarcodeFailed`]); an
    /// unknown lower-case code is XorPay's own and stays [`ApiError::Unknown`].
    ///
    /// # Errors
    /// The [`ApiError`] for every code but `success` and `new`.
    pub fn into_result(self, info: Option<String>) -> Result<BarcodeOutcome, ApiError> {
        Err(match self {
            BarcodeStatus::Success => return Ok(BarcodeOutcome::Paid),
            BarcodeStatus::New => return Ok(BarcodeOutcome::Waiting),
            BarcodeStatus::MissingArgument => ApiError::MissingArgument,
            BarcodeStatus::AppOff => ApiError::AppOff,
            BarcodeStatus::AidNotExist => ApiError::AidNotExist,
            BarcodeStatus::PayTypeError => ApiError::PayTypeError,
            BarcodeStatus::SignError => ApiError::SignError,
            BarcodeStatus::OrderPayed => ApiError::OrderPayed,
            BarcodeStatus::OrderExpire => ApiError::OrderExpire,
            BarcodeStatus::WechatApiError => ApiError::WechatApiError { info },
            BarcodeStatus::AlipayApiError => ApiError::AlipayApiError { info },
            BarcodeStatus::FeeError => ApiError::FeeError,
            BarcodeStatus::OrderExist => ApiError::OrderExist,
            BarcodeStatus::NoContract => ApiError::NoContract,
            BarcodeStatus::NoAlipayContract => ApiError::NoAlipayContract,
            BarcodeStatus::Unknown(code) if !code.bytes().any(|b| b.is_ascii_lowercase()) => {
                ApiError::BarcodeFailed { code }
            }
            BarcodeStatus::Unknown(code) => ApiError::Unknown { code, info },
        })
    }
}

impl RefundStatus {
    /// `Ok(())` for `ok`, otherwise the matching [`ApiError`].
    ///
    /// # Errors
    /// The [`ApiError`] for every code but `ok`.
    pub fn into_result(self, info: Option<String>) -> Result<(), ApiError> {
        Err(match self {
            RefundStatus::Ok => return Ok(()),
            RefundStatus::OrderError => ApiError::OrderError { info },
            RefundStatus::PriceError => ApiError::PriceError { info },
            RefundStatus::SignError => ApiError::SignError,
            RefundStatus::AlipayApiError => ApiError::AlipayApiError { info },
            RefundStatus::Unknown(code) => ApiError::Unknown { code, info },
        })
    }
}

/// The state of an order as the query endpoints report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderState {
    /// `not_exist`: XorPay has no such order.
    NotExist,
    /// `new`: created, not paid.
    New,
    /// `payed`: paid; the notification is not yet acknowledged.
    Payed,
    /// `fee_error`: paid, but XorPay could not take its fee from the merchant's balance.
    FeeError,
    /// `success`: paid and the notification acknowledged.
    Success,
    /// `expire`: expired unpaid.
    Expire,
}

impl OrderState {
    /// Whether the order has been paid (`payed` or `success`). `fee_error` is not counted:
    /// whether such an order is ever notified is unknown (docs/protocol.md §11).
    pub fn is_paid(self) -> bool {
        matches!(self, OrderState::Payed | OrderState::Success)
    }
}

impl QueryStatus {
    /// The order state, or an [`ApiError`] for `sign_error` and unknown codes.
    ///
    /// # Errors
    /// [`ApiError::SignError`] or [`ApiError::Unknown`].
    pub fn into_result(self) -> Result<OrderState, ApiError> {
        Ok(match self {
            QueryStatus::NotExist => OrderState::NotExist,
            QueryStatus::New => OrderState::New,
            QueryStatus::Payed => OrderState::Payed,
            QueryStatus::FeeError => OrderState::FeeError,
            QueryStatus::Success => OrderState::Success,
            QueryStatus::Expire => OrderState::Expire,
            QueryStatus::SignError => return Err(ApiError::SignError),
            QueryStatus::Unknown(code) => return Err(ApiError::Unknown { code, info: None }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of docs/protocol.md §5, with the endpoint enums that must know it.
    #[test]
    fn every_documented_code_is_known_and_round_trips() {
        let pay = [
            "ok",
            "missing_argument",
            "app_off",
            "aid_not_exist",
            "pay_type_error",
            "sign_error",
            "order_payed",
            "order_expire",
            "wechat_api_error",
            "alipay_api_error",
            "fee_error",
            "order_exist",
            "invalid_openid",
            "no_contract",
            "no_alipay_contract",
        ];
        for code in pay {
            let status = PayStatus::from_code(code);
            assert!(!matches!(status, PayStatus::Unknown(_)), "{code}");
            assert_eq!(status.as_str(), code);
        }
        for code in ["success", "new", "sign_error", "order_exist", "fee_error"] {
            let status = BarcodeStatus::from_code(code);
            assert!(!matches!(status, BarcodeStatus::Unknown(_)), "{code}");
            assert_eq!(status.as_str(), code);
        }
        for code in [
            "not_exist",
            "new",
            "payed",
            "fee_error",
            "success",
            "expire",
        ] {
            let status = QueryStatus::from_code(code);
            assert!(!matches!(status, QueryStatus::Unknown(_)), "{code}");
            assert_eq!(status.as_str(), code);
        }
        for code in [
            "ok",
            "order_error",
            "price_error",
            "sign_error",
            "alipay_api_error",
        ] {
            let status = RefundStatus::from_code(code);
            assert!(!matches!(status, RefundStatus::Unknown(_)), "{code}");
            assert_eq!(status.as_str(), code);
        }
    }

    #[test]
    fn unknown_codes_are_kept_not_lost() {
        let status: PayStatus = serde_json::from_str(r#""brand_new_code""#).unwrap();
        assert_eq!(status, PayStatus::Unknown("brand_new_code".into()));
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#""brand_new_code""#
        );
        let error = status.into_result(Some("details".into())).unwrap_err();
        assert_eq!(error.code(), "brand_new_code");
        assert_eq!(error.retry(), Retry::Never);
        assert!(error.to_string().contains("details"));
    }

    #[test]
    fn error_codes_map_to_their_variant_and_back() {
        for code in [
            "missing_argument",
            "app_off",
            "aid_not_exist",
            "pay_type_error",
            "sign_error",
            "order_payed",
            "order_expire",
            "wechat_api_error",
            "alipay_api_error",
            "fee_error",
            "order_exist",
            "invalid_openid",
            "no_contract",
            "no_alipay_contract",
        ] {
            let error = PayStatus::from_code(code).into_result(None).unwrap_err();
            assert_eq!(error.code(), code);
            assert!(error.to_string().contains(code), "{error}");
        }
        assert_eq!(PayStatus::Ok.into_result(None), Ok(()));
    }

    #[test]
    fn barcode_upstream_codes_are_failures_and_new_is_waiting() {
        assert_eq!(
            BarcodeStatus::from_code("new").into_result(None),
            Ok(BarcodeOutcome::Waiting)
        );
        assert_eq!(
            BarcodeStatus::from_code("success").into_result(None),
            Ok(BarcodeOutcome::Paid)
        );
        assert_eq!(
            BarcodeStatus::from_code("AUTH_CODE_INVALID").into_result(None),
            Err(ApiError::BarcodeFailed {
                code: "AUTH_CODE_INVALID".into()
            })
        );
        assert_eq!(
            BarcodeStatus::from_code("ACQ.PAYMENT_AUTH_CODE_INVALID")
                .into_result(None)
                .unwrap_err()
                .code(),
            "ACQ.PAYMENT_AUTH_CODE_INVALID"
        );
        // A merchant-side code is not the customer's fault.
        assert_eq!(
            BarcodeStatus::from_code("no_alipay_contract").into_result(None),
            Err(ApiError::NoAlipayContract)
        );
        assert!(matches!(
            BarcodeStatus::from_code("some_new_code").into_result(None),
            Err(ApiError::Unknown { .. })
        ));
    }

    #[test]
    fn retry_hints_follow_the_meaning_of_each_code() {
        assert_eq!(ApiError::SignError.retry(), Retry::Never);
        assert_eq!(ApiError::FeeError.retry(), Retry::AfterMerchantAction);
        assert_eq!(
            ApiError::WechatApiError { info: None }.retry(),
            Retry::Later
        );
        assert_eq!(
            ApiError::AlipayApiError {
                info: Some("ACQ.ACCESS_FORBIDDEN".into())
            }
            .retry(),
            Retry::AfterMerchantAction
        );
        assert_eq!(
            RefundStatus::PriceError
                .into_result(None)
                .unwrap_err()
                .retry(),
            Retry::Never
        );
    }

    #[test]
    fn query_status_separates_states_from_errors() {
        assert!(QueryStatus::Payed.into_result().unwrap().is_paid());
        assert!(QueryStatus::Success.into_result().unwrap().is_paid());
        assert!(!QueryStatus::FeeError.into_result().unwrap().is_paid());
        assert_eq!(QueryStatus::New.into_result(), Ok(OrderState::New));
        assert_eq!(
            QueryStatus::SignError.into_result(),
            Err(ApiError::SignError)
        );
    }
}
