//! axum integration (feature `axum`): the [`XorPayNotification`] extractor for the notify
//! route, and [`Acknowledgement`] as the response XorPay accepts.
//!
//! ```no_run
//! use xorpay_core::axum::XorPayNotification;
//! use xorpay_core::store::{Acknowledgement, NotificationRefused, OrderStore, confirm_notification};
//!
//! // The body of a notify route (`State` gives the store; `AppSecret: FromRef<S>` the
//! // secret the extractor verifies with).
//! async fn notify<O, S: OrderStore<O>>(
//!     store: &S,
//!     XorPayNotification(paid): XorPayNotification,
//! ) -> Result<Acknowledgement, NotificationRefused> {
//!     let confirmed = confirm_notification(store, paid).await?;
//!     // Fulfil `confirmed.order()` here, idempotently (keyed by its order number): a
//!     // repeated delivery is `AlreadyPaid` and must find the fulfilment done or do it.
//!     Ok(confirmed.into_parts().1)
//! }
//! ```
//!
//! The extractor reads the raw body (at most [`Notification::MAX_BODY`] bytes), parses it
//! strictly and verifies its signature with the [`AppSecret`] the application state
//! provides (`AppSecret: FromRef<S>`). Anything else is rejected with a non-200 status, so
//! that XorPay delivers the notification again. XorPay's `200 ok` is an [`Acknowledgement`],
//! which only the store's [`confirm_notification`] hands out, after its write: a handler that
//! answers with it never acknowledges a payment before it is durable (nothing stops a
//! handler from writing `(200, "ok")` by hand, which is the mistake this type exists to
//! avoid).
//!
//! [`confirm_notification`]: crate::store::confirm_notification

use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::http::StatusCode;
use ::axum::response::{IntoResponse, Response};

use crate::credentials::AppSecret;
use crate::notify::{Notification, NotificationError, VerifiedNotification};
use crate::store::{Acknowledgement, NotificationRefused};

/// A payment notification, read from the request body and verified.
#[derive(Debug, Clone)]
pub struct XorPayNotification(pub VerifiedNotification);

/// Why a notification request was refused: a non-200 answer, so that XorPay retries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationRejection {
    /// The body could not be read (too large, connection closed).
    #[error("notification body unreadable")]
    Body,
    /// The body is not a valid, genuine notification.
    #[error("notification refused: {0}")]
    Invalid(#[from] NotificationError),
}

impl<S> FromRequest<S> for XorPayNotification
where
    S: Send + Sync,
    AppSecret: FromRef<S>,
{
    type Rejection = NotificationRejection;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = ::axum::body::to_bytes(request.into_body(), Notification::MAX_BODY)
            .await
            .map_err(|_| NotificationRejection::Body)?;
        let secret = AppSecret::from_ref(state);
        let verified = Notification::parse(&body)?.verify(&secret)?;
        Ok(XorPayNotification(verified))
    }
}

impl IntoResponse for NotificationRejection {
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "xorpay notification rejected");
        let status = match self {
            NotificationRejection::Body => StatusCode::PAYLOAD_TOO_LARGE,
            NotificationRejection::Invalid(_) => StatusCode::BAD_REQUEST,
        };
        (status, "refused").into_response()
    }
}

impl IntoResponse for Acknowledgement {
    /// HTTP 200 with body `ok`: XorPay stops notifying.
    fn into_response(self) -> Response {
        (StatusCode::OK, Acknowledgement::BODY).into_response()
    }
}

impl IntoResponse for NotificationRefused {
    /// A non-200 status, so that XorPay notifies again: 409 for a notification that does not
    /// fit the stored order, 503 when the store, a query or a conditional write failed.
    fn into_response(self) -> Response {
        tracing::warn!(error = %self, "xorpay notification not applied");
        let status = match self {
            NotificationRefused::Store(_)
            | NotificationRefused::Query(_)
            | NotificationRefused::NotRecorded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::CONFLICT,
        };
        (status, "refused").into_response()
    }
}
