//! What goes wrong when calling XorPay: which call ([`Call`]) and how ([`ClientError`]); and,
//! inside the crate, a sending that failed with its order handed back ([`Failed`]).

use core::fmt;

use crate::answers::ResponseError;
use crate::order::{Created, Order};
use crate::request::RequestError;
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
    /// XorPay answered and refused ([`ApiError::retry`] says whether the same request can
    /// succeed later).
    #[error(transparent)]
    Api(#[from] ApiError),
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
    #[error("xorpay {call}: answer larger than {limit} bytes")]
    TooLarge {
        /// The call.
        call: Call,
        /// The most the client reads of an answer.
        limit: usize,
    },
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
        " (outcome unknown: never repeat it blindly)"
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
    pub(crate) fn outcome_unknown(&self) -> bool {
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
    /// transit. A call that changes something and whose outcome is unknown is not: the
    /// service settles it by asking XorPay first.
    pub fn is_safe_to_retry(&self) -> bool {
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

/// Why an order was not sent, inside the crate: XorPay's side, the order itself, or a barcode
/// that is never sent twice.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The call failed, or XorPay refused.
    Client(ClientError),
    /// The order holds a value XorPay would refuse; nothing was sent.
    Request(RequestError),
    /// A barcode order is never sent again: that could charge the payer's code twice.
    NotResent,
}

impl From<ClientError> for SendError {
    fn from(error: ClientError) -> SendError {
        SendError::Client(error)
    }
}

impl From<RequestError> for SendError {
    fn from(error: RequestError) -> SendError {
        SendError::Request(error)
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Client(error) => error.fmt(f),
            SendError::Request(error) => error.fmt(f),
            SendError::NotResent => f.write_str("a barcode payment is never sent twice"),
        }
    }
}

impl SendError {
    /// Whether XorPay may have acted on it without its answer arriving.
    pub(crate) fn outcome_unknown(&self) -> bool {
        matches!(self, SendError::Client(error) if error.outcome_unknown())
    }
}

/// A sending that failed: the order is handed back, unchanged.
pub(crate) struct Failed<O> {
    pub(crate) order: Order<O, Created>,
    pub(crate) error: SendError,
}
