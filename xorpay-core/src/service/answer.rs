//! [`Payments::answer`]: the notify route for any web framework. Body bytes in; the status and
//! body to answer XorPay with out, decided as
//! [`guarantees::acknowledgement`](super::guarantees::acknowledgement) says (200 `ok` only
//! after the durable write). The axum router and the actix-web service are this call in
//! their framework's types.

use super::{Payments, ServiceOrder};
use crate::notify::Notification;

/// What to answer a notification with: an HTTP status and a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "answer XorPay with it, or it will notify again"]
pub struct NotifyAnswer {
    status: u16,
    body: &'static str,
}

impl NotifyAnswer {
    /// The HTTP status: 200 when the payment is recorded (XorPay stops notifying), otherwise
    /// 400, 404 (a merchant not in the merchant table), 409, 413 or 503 (it notifies again; see
    /// [`NotifyError::status`](super::NotifyError::status)).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body: `ok` with 200, `refused` otherwise.
    pub fn body(&self) -> &'static str {
        self.body
    }

    /// A notification posted for a merchant the merchant table does not have: 404.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn unknown_merchant() -> NotifyAnswer {
        NotifyAnswer {
            status: 404,
            body: "refused",
        }
    }

    /// Whether XorPay is told the payment is recorded.
    pub fn is_ok(&self) -> bool {
        self.status == 200
    }
}

impl<O: ServiceOrder> Payments<O> {
    /// Verifies and records a notification's body, as [`Payments::confirm`] does, and says
    /// what to answer XorPay: for a web framework this crate has no adapter for. Give it the
    /// raw body of the `POST` to the service's `notify_url` path, read with a limit of
    /// [`Notification::MAX_BODY`] bytes where the framework allows (a longer body is answered
    /// 413), and answer with [`NotifyAnswer::status`] and [`NotifyAnswer::body`]. Refusals
    /// are logged at WARN.
    ///
    /// ```no_run
    /// # use xorpay::prelude::*;
    /// # async fn handler<O: xorpay::service::ServiceOrder>(payments: Payments<O>, body: Vec<u8>) {
    /// let answer = payments.answer(&body).await;
    /// // e.g. salvo: res.status_code(StatusCode::from_u16(answer.status())?); res.render(answer.body());
    /// # let _ = answer;
    /// # }
    /// ```
    pub async fn answer(&self, body: &[u8]) -> NotifyAnswer {
        if body.len() > Notification::MAX_BODY {
            tracing::warn!(bytes = body.len(), "xorpay notification body too large");
            crate::metrics::notified(crate::metrics::Notified::TooLarge);
            return NotifyAnswer {
                status: 413,
                body: "refused",
            };
        }
        match self.confirm(body).await {
            Ok(_) => NotifyAnswer {
                status: 200,
                body: super::Confirmed::BODY,
            },
            Err(error) => {
                tracing::warn!(error = %error, "xorpay notification not applied");
                NotifyAnswer {
                    status: error.status(),
                    body: "refused",
                }
            }
        }
    }
}
