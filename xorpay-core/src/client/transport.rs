//! How one request to XorPay is sent and read: a bounded body, what is and is not a JSON
//! answer, which non-2xx answers are still XorPay's refusals, and the retries of queries.

use std::time::Instant;

use super::Client;
use super::error::{Call, ClientError};
use crate::answers::QueryResponse;
use crate::metrics::{self, Answered};
use crate::status::ApiError;
use crate::status::OrderState;

/// The largest response body read, in bytes: XorPay's JSON answers are a few hundred bytes.
pub(super) const MAX_RESPONSE: usize = 64 * 1024;

/// How many characters of an unexpected body an error keeps.
const EXCERPT: usize = 200;

impl Client {
    pub(super) async fn query_path(
        &self,
        call: Call,
        path: &str,
    ) -> Result<OrderState, ClientError> {
        let policy = self.inner.query_retry;
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let result = async {
                let body = self.send(call, self.inner.http.get(self.url(path))).await?;
                QueryResponse::from_json(&body)
                    .map_err(|error| ClientError::from_response(call, error))?
                    .status
                    .into_result()
                    .map_err(ClientError::Api)
            }
            .await;
            measured(call, started, &result);
            attempt += 1;
            match result {
                Err(error) if error.is_safe_to_retry() && attempt < policy.attempts => {
                    let wait = policy.backoff(attempt - 1);
                    tracing::info!(%error, attempt, ?wait, "query failed, retrying");
                    tokio::time::sleep(wait).await;
                }
                Ok(state) => {
                    tracing::debug!(?state, attempt, "queried");
                    if state == OrderState::FeeError {
                        tracing::warn!(
                            "xorpay: the payer paid, but xorpay could not take its fee from the \
                             merchant's prepaid balance (fee_error): top up the balance in \
                             xorpay's dashboard; xorpay confirms the payment once it has taken \
                             the fee"
                        );
                    }
                    return Ok(state);
                }
                Err(error) => {
                    tracing::warn!(%error, attempt, "query failed");
                    return Err(error);
                }
            }
        }
    }

    pub(super) async fn post(
        &self,
        call: Call,
        path: &str,
        body: String,
    ) -> Result<Vec<u8>, ClientError> {
        let request = self
            .inner
            .http
            .post(self.url(path))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body);
        self.send(call, request).await
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.base_url)
    }

    /// Sends one request and reads a bounded body, classifying what is not a JSON answer.
    async fn send(
        &self,
        call: Call,
        request: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, ClientError> {
        let mut response = request
            .send()
            .await
            .map_err(|error| ClientError::from_http(call, error))?;
        let status = response.status();
        tracing::debug!(
            call = call.name(),
            status = status.as_u16(),
            "xorpay answered"
        );
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| ClientError::from_http(call, error))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE {
                if !status.is_success() {
                    // Keep the status: a huge error page is still an error page.
                    break;
                }
                return Err(ClientError::TooLarge {
                    call,
                    limit: MAX_RESPONSE,
                });
            }
            body.extend_from_slice(&chunk);
        }
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if !status.is_success() {
            // XorPay answers its refusals with HTTP 200. Under another status only one of the
            // endpoint's documented refusals is read (and typed) as a refusal: anything else,
            // an `ok` above all, is not an answer to trust, and the outcome is unknown.
            if documented_refusal(call, &body) {
                return Ok(body);
            }
            return Err(ClientError::HttpStatus {
                call,
                status: status.as_u16(),
                excerpt: excerpt(&body),
            });
        }
        if first != Some(&b'{') {
            return Err(ClientError::NotJson {
                call,
                excerpt: excerpt(&body),
            });
        }
        Ok(body)
    }
}

/// Reports one request to XorPay, answered and read (feature `metrics`): its endpoint, what it
/// came to, and how long since `started`.
pub(super) fn measured<T>(call: Call, started: Instant, result: &Result<T, ClientError>) {
    metrics::requested(call.name(), answered(result), started.elapsed());
}

/// What a request came to, for its metric. A code no document lists is not a refusal one can
/// act on: its outcome is unknown, like any answer that cannot be read.
fn answered<T>(result: &Result<T, ClientError>) -> Answered {
    match result {
        Ok(_) => Answered::Ok,
        Err(ClientError::Api(ApiError::Unknown { .. })) => Answered::BadAnswer,
        Err(ClientError::Api(_)) => Answered::Refused,
        Err(ClientError::Timeout { .. }) => Answered::Timeout,
        Err(ClientError::Unreachable { .. }) => Answered::Unreachable,
        Err(ClientError::Connection { .. }) => Answered::Connection,
        Err(
            ClientError::HttpStatus { .. }
            | ClientError::NotJson { .. }
            | ClientError::Malformed { .. }
            | ClientError::TooLarge { .. },
        ) => Answered::BadAnswer,
    }
}

/// Whether `body` is JSON whose `status` is one of the refusals XorPay documents for `call`
/// (docs/protocol.md §5), or, for the queries, `sign_error`, which the docs do not list for
/// them but which is the only answer a bad query signature can sensibly get (§4.5): not a
/// success, not a state, not a code nobody documented.
fn documented_refusal(call: Call, body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Status {
        status: String,
    }
    let Ok(Status { status }) = serde_json::from_slice::<Status>(body) else {
        return false;
    };
    match call {
        Call::Pay => !matches!(
            crate::status::PayStatus::from_code(&status),
            crate::status::PayStatus::Ok | crate::status::PayStatus::Unknown(_)
        ),
        Call::Barcode => !matches!(
            crate::status::BarcodeStatus::from_code(&status),
            crate::status::BarcodeStatus::Success
                | crate::status::BarcodeStatus::New
                | crate::status::BarcodeStatus::Unknown(_)
        ),
        Call::Query | Call::Query2 => {
            crate::status::QueryStatus::from_code(&status) == crate::status::QueryStatus::SignError
        }
        Call::Refund => !matches!(
            crate::status::RefundStatus::from_code(&status),
            crate::status::RefundStatus::Ok | crate::status::RefundStatus::Unknown(_)
        ),
    }
}

/// The start of a body, for an error: at most [`EXCERPT`] characters, control characters
/// replaced, so that a large or hostile body cannot flood a log.
fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(EXCERPT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's metric outcome is what its answer came to once read: a malformed answer
    /// or a code XorPay does not document is not `ok`, nor a refusal one can act on.
    #[test]
    fn a_request_is_counted_by_what_its_answer_came_to() {
        let call = Call::Refund;
        let counted = |result: Result<(), ClientError>| answered(&result);
        assert_eq!(counted(Ok(())), Answered::Ok);
        assert_eq!(
            counted(Err(ClientError::Api(ApiError::SignError))),
            Answered::Refused
        );
        let unknown = ApiError::Unknown {
            code: "new_code".into(),
            info: None,
        };
        assert_eq!(counted(Err(ClientError::Api(unknown))), Answered::BadAnswer);
        let malformed = ClientError::Malformed {
            call,
            reason: "no status".into(),
        };
        assert_eq!(counted(Err(malformed)), Answered::BadAnswer);
        assert_eq!(
            counted(Err(ClientError::Timeout { call })),
            Answered::Timeout
        );
    }

    #[test]
    fn excerpts_are_bounded_and_single_line() {
        let body = format!("<html>\n{}</html>", "x".repeat(1000));
        let cut = excerpt(body.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT);
        assert!(!cut.contains('\n'));
    }
}
