//! What goes wrong when calling XorPay: which call ([`Call`]), how ([`ClientError`]), and the
//! errors that hand an order back ([`SubmitError`], [`ConfirmFailure`], [`SettleError`]).

use core::fmt;

use super::transport::MAX_RESPONSE;
use crate::order::{Created, Order, Pending, RefundLimit, Rejected};
use crate::request::RequestError;
use crate::response::ResponseError;
use crate::status::ApiError;

/// Which XorPay endpoint a call used, for errors and tracing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Call {
    /// `POST /api/pay/{aid}`.
    Pay,
    /// `POST /api/barcode_pay/{aid}`.
    Barcode,
    /// `GET /api/query/{aoid}`.
    Query,
    /// `GET /api/query2/{aid}`.
    Query2,
    /// `POST /api/refund/{aoid}`.
    Refund,
}

impl Call {
    pub(super) fn name(self) -> &'static str {
        match self {
            Call::Pay => "pay",
            Call::Barcode => "barcode_pay",
            Call::Query => "query",
            Call::Query2 => "query2",
            Call::Refund => "refund",
        }
    }

    /// Whether repeating this call could repeat its effect (a second order or refund).
    pub(super) fn changes_anything(self) -> bool {
        matches!(self, Call::Pay | Call::Barcode | Call::Refund)
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A call to XorPay that did not succeed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// XorPay answered and refused.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The order holds a value XorPay would refuse; nothing was sent.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The refund is over XorPay's limits; nothing was sent.
    #[error(transparent)]
    RefundLimit(#[from] RefundLimit),
    /// No answer in time. For `pay`, `barcode_pay` and `refund` the outcome is unknown:
    /// query before trying again.
    #[error("xorpay {call}: no answer in time{}", unknown_outcome(*.call))]
    Timeout {
        /// The call.
        call: Call,
    },
    /// No connection could be made: nothing was sent, trying again is safe.
    #[error("xorpay {call}: unreachable: {message}")]
    Unreachable {
        /// The call.
        call: Call,
        /// What the HTTP stack said.
        message: String,
    },
    /// The connection failed or was dropped after it was made. For `pay`, `barcode_pay` and
    /// `refund` the outcome is unknown: query before trying again.
    #[error("xorpay {call}: connection failed: {message}{}", unknown_outcome(*.call))]
    Connection {
        /// The call.
        call: Call,
        /// What the HTTP stack said.
        message: String,
    },
    /// An HTTP status other than 2xx.
    #[error("xorpay {call}: http status {status}: {excerpt:?}")]
    HttpStatus {
        /// The call.
        call: Call,
        /// The status code.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// A 2xx answer that is not JSON (an HTML error page of a proxy, say).
    #[error("xorpay {call}: answer is not json: {excerpt:?}")]
    NotJson {
        /// The call.
        call: Call,
        /// The start of the body.
        excerpt: String,
    },
    /// JSON, but not the shape this endpoint answers with.
    #[error("xorpay {call}: unexpected answer: {reason}")]
    Malformed {
        /// The call.
        call: Call,
        /// What was wrong.
        reason: String,
    },
    /// The answer was larger than any XorPay answer.
    #[error("xorpay {call}: answer larger than {MAX_RESPONSE} bytes")]
    TooLarge {
        /// The call.
        call: Call,
    },
    /// The client's configuration is unusable.
    #[error("xorpay client configuration: {0}")]
    Config(String),
}

/// An error and its causes, one line (the causes say why: DNS, TLS, refused, …).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn unknown_outcome(call: Call) -> &'static str {
    if call.changes_anything() {
        " (outcome unknown: query before retrying)"
    } else {
        ""
    }
}

impl ClientError {
    /// Whether the request may have reached XorPay without a clear answer coming back: a
    /// timeout, a dropped connection, a non-2xx status (unless it carried one of the
    /// endpoint's documented refusals), an unreadable answer, or a status this version does
    /// not know. For a call that changes something (creating an order, refunding) the change
    /// may or may not have happened.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ClientError::Timeout { .. }
                | ClientError::Connection { .. }
                | ClientError::HttpStatus { .. }
                | ClientError::NotJson { .. }
                | ClientError::Malformed { .. }
                | ClientError::TooLarge { .. }
                | ClientError::Api(ApiError::Unknown { .. })
        )
    }

    /// Whether sending the same request again is safe and may succeed: XorPay was
    /// unreachable, refused for a passing reason, or a read-only call (a query) failed in
    /// transit. A call that changes something and whose outcome is unknown is not: query (or
    /// check the merchant dashboard) first.
    pub fn is_transient(&self) -> bool {
        let call = match self {
            ClientError::Unreachable { .. } => return true,
            ClientError::Api(error) => return error.retry() == crate::status::Retry::Later,
            ClientError::Timeout { call }
            | ClientError::Connection { call, .. }
            | ClientError::NotJson { call, .. } => *call,
            ClientError::HttpStatus { call, status, .. } if *status >= 500 || *status == 429 => {
                *call
            }
            _ => return false,
        };
        !call.changes_anything()
    }

    pub(super) fn from_http(call: Call, error: reqwest::Error) -> ClientError {
        if error.is_timeout() {
            return ClientError::Timeout { call };
        }
        let unreachable = error.is_connect();
        // Without the URL: query2's carries its signature.
        let message = error_chain(&error.without_url());
        if unreachable {
            ClientError::Unreachable { call, message }
        } else {
            ClientError::Connection { call, message }
        }
    }

    pub(super) fn from_response(call: Call, error: ResponseError) -> ClientError {
        match error {
            ResponseError::Api(error) => ClientError::Api(error),
            ResponseError::Json(reason) => ClientError::Malformed { call, reason },
            ResponseError::Missing(field) => ClientError::Malformed {
                call,
                reason: format!("`{field}` missing or invalid"),
            },
        }
    }
}

/// A submission that failed: the order is handed back, unchanged.
pub struct SubmitError<O> {
    pub(super) order: Order<O, Created>,
    pub(super) error: ClientError,
}

impl<O> SubmitError<O> {
    /// What went wrong.
    pub fn error(&self) -> &ClientError {
        &self.error
    }

    /// The order, still created.
    pub fn order(&self) -> &Order<O, Created> {
        &self.order
    }

    /// The order, still created.
    pub fn into_order(self) -> Order<O, Created> {
        self.order
    }

    /// Both.
    pub fn into_parts(self) -> (Order<O, Created>, ClientError) {
        (self.order, self.error)
    }
}

impl<O> fmt::Debug for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmitError")
            .field("order_id", &self.order.order_id())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<O> fmt::Display for SubmitError<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order {:?} not submitted: {}",
            self.order.order_id(),
            self.error
        )
    }
}

impl<O> std::error::Error for SubmitError<O> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A confirmation that failed; the pending order is inside whichever error it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmFailure<O> {
    /// The notification or query answer did not match the order.
    #[error(transparent)]
    Rejected(Rejected<O>),
    /// The query that confirms a cashier order failed.
    #[error("{error}")]
    Query {
        /// The order, still pending.
        order: Box<Order<O, Pending>>,
        /// The query's error.
        error: ClientError,
    },
}

impl<O> ConfirmFailure<O> {
    /// The order, still pending.
    pub fn into_order(self) -> Order<O, Pending> {
        match self {
            ConfirmFailure::Rejected(rejected) => rejected.into_order(),
            ConfirmFailure::Query { order, .. } => *order,
        }
    }
}

/// A settlement query that failed; the order is inside.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct SettleError<O> {
    /// The order, still pending.
    pub order: Box<Order<O, Pending>>,
    /// The query's error.
    pub error: ClientError,
}
