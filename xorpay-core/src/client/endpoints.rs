//! One method per XorPay endpoint. Public: the queries, and the URLs of the openid redirect
//! and the QR renderer, which move no money. Inside the crate: creating orders (pay, barcode,
//! the cashier page) and refunds, which only the lifecycle service calls, with its own clock.

use std::time::Instant;

use time::OffsetDateTime;
use tracing::Instrument as _;

use super::error::{Call, ClientError, Failed, SendError};
use super::transport::measured;
use super::{Client, is_web_url};
use crate::answers::{BarcodeResponse, CreateOrderResponse, RefundResponse};
use crate::config::ConfigError;
use crate::form::FormBody;
use crate::order::{Created, Order, Paid, Pending, QueryAnswer, RefundTicket};
use crate::pay_type::Endpoint;
use crate::request::{XorPayOrder, order_facts, signed_request};
use crate::response::{Aoid, CashierPage, DEFAULT_EXPIRE_SECS};
use crate::sign;
use crate::status::OrderState;

impl Client {
    /// Sends an order to its endpoint at `now` (the service's clock): created at `/api/pay`,
    /// charged at `/api/barcode_pay`, or opened as a cashier page (no request). Never
    /// retried: a retry could create or charge it twice.
    pub(crate) async fn send_order<O: XorPayOrder>(
        &self,
        order: Order<O, Created>,
        now: OffsetDateTime,
    ) -> Result<Order<O, Pending>, Failed<O>> {
        match order.inner().kind().endpoint() {
            Endpoint::Barcode => self.create(Call::Barcode, order, now).await,
            _ => self.resend(order, now).await,
        }
    }

    /// Sends a submission in doubt again, identically, at `now`: `/api/pay` orders are
    /// submitted, cashier orders opened (no request), barcode orders refused
    /// ([`SendError::NotResent`]); why is
    /// [`guarantees::one_live_order`](crate::service::guarantees::one_live_order).
    pub(crate) async fn resend<O: XorPayOrder>(
        &self,
        order: Order<O, Created>,
        now: OffsetDateTime,
    ) -> Result<Order<O, Pending>, Failed<O>> {
        match order.inner().kind().endpoint() {
            Endpoint::Pay => self.create(Call::Pay, order, now).await,
            Endpoint::Cashier => {
                let page = match self.cashier_page(order.inner()) {
                    Ok(page) => page,
                    Err(error) => return Err(Failed { order, error }),
                };
                let lifetime = order_facts(order.inner())
                    .ok()
                    .and_then(|facts| facts.expire)
                    .unwrap_or(DEFAULT_EXPIRE_SECS);
                Ok(order.opened(page, lifetime, now))
            }
            Endpoint::Barcode => Err(Failed {
                order,
                error: SendError::NotResent,
            }),
        }
    }

    /// XorPay's cashier page for an order: its signed URL and auto-submitting form. No
    /// request is made; XorPay checks the signature when the payer's browser arrives.
    fn cashier_page<O: XorPayOrder>(&self, order: &O) -> Result<CashierPage, SendError> {
        let request = signed_request(order, self.inner.notify_url.as_deref(), &self.inner.secret)?;
        let action = format!("{}/api/cashier/{}", self.inner.base_url, self.inner.aid);
        Ok(CashierPage {
            url: format!("{action}?{}", request.body()),
            form_html: auto_submit_form(&action, request.body()),
        })
    }

    /// Sends a creating call (never retried) and moves the order on with XorPay's answer.
    async fn create<O: XorPayOrder>(
        &self,
        call: Call,
        order: Order<O, Created>,
        now: OffsetDateTime,
    ) -> Result<Order<O, Pending>, Failed<O>> {
        let span = tracing::info_span!(
            "xorpay.create",
            call = call.name(),
            kind = order.inner().kind().keyword(),
            order_id = order.order_id(),
            aoid = tracing::field::Empty,
        );
        async move {
            match self.created(call, &order).await {
                Ok(Answer::Order {
                    aoid,
                    payment,
                    lifetime,
                }) => {
                    tracing::Span::current().record("aoid", aoid.as_str());
                    tracing::info!("order created");
                    Ok(order.accepted(aoid, payment, lifetime, now))
                }
                Ok(Answer::Charged { aoid, outcome }) => {
                    tracing::Span::current().record("aoid", aoid.as_str());
                    tracing::info!("order created");
                    Ok(order.charged(aoid, outcome, now))
                }
                Err(error) => {
                    tracing::warn!(%error, "order not created");
                    Err(Failed { order, error })
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Signs and posts an order, and reads XorPay's answer.
    async fn created<O: XorPayOrder>(
        &self,
        call: Call,
        order: &Order<O, Created>,
    ) -> Result<Answer, SendError> {
        let request = signed_request(
            order.inner(),
            self.inner.notify_url.as_deref(),
            &self.inner.secret,
        )?;
        let path = match call {
            Call::Barcode => format!("/api/barcode_pay/{}", self.inner.aid),
            _ => format!("/api/pay/{}", self.inner.aid),
        };
        let started = Instant::now();
        let answer = self
            .read_created(call, &path, request.body().to_owned())
            .await;
        measured(call, started, &answer);
        Ok(answer?)
    }

    /// Posts a signed order to `path` and reads XorPay's answer.
    async fn read_created(
        &self,
        call: Call,
        path: &str,
        body: String,
    ) -> Result<Answer, ClientError> {
        let body = self.post(call, path, body).await?;
        let read = |error| ClientError::from_response(call, error);
        Ok(match call {
            Call::Barcode => {
                let payment = BarcodeResponse::from_json(&body)
                    .and_then(BarcodeResponse::into_result)
                    .map_err(read)?;
                Answer::Charged {
                    outcome: payment.outcome(),
                    aoid: payment.into_aoid(),
                }
            }
            _ => {
                let created = CreateOrderResponse::from_json(&body)
                    .and_then(CreateOrderResponse::into_result)
                    .map_err(read)?;
                let lifetime = created.expires_in().unwrap_or(DEFAULT_EXPIRE_SECS);
                let (aoid, payment) = created.into_parts();
                Answer::Order {
                    aoid,
                    payment,
                    lifetime,
                }
            }
        })
    }

    /// The URL of XorPay's openid redirect (`GET /api/openid/{aid}`), to send the payer's
    /// browser to inside WeChat. XorPay appends `&openid=…` to `callback` blindly
    /// (docs/protocol.md §4.1), so a callback without a query gets an empty one (`?`) first;
    /// read the openid back with [`openid_from_callback`].
    ///
    /// # Errors
    /// A [`ConfigError`] for a callback that is not an absolute http(s) URL or that has a
    /// `#fragment` (the openid would land in the fragment, which browsers never send).
    pub fn openid_url(&self, callback: &str) -> Result<String, ConfigError> {
        if !is_web_url(callback) || callback.contains('#') {
            return Err(ConfigError::new(
                "openid callback",
                "it must be an absolute http(s) URL without a #fragment",
            ));
        }
        let callback = if callback.contains('?') {
            callback.to_owned()
        } else {
            format!("{callback}?")
        };
        let mut query = FormBody::new();
        query.pair("callback", &callback);
        Ok(format!(
            "{}/api/openid/{}?{}",
            self.inner.base_url,
            self.inner.aid,
            query.as_str()
        ))
    }

    /// The URL of XorPay's QR renderer (`GET /qr`) for `data`, usable as an `<img src>`.
    pub fn qr_image_url(&self, data: &str) -> String {
        let mut query = FormBody::new();
        query.pair("data", data);
        format!("{}/qr?{}", self.inner.base_url, query.as_str())
    }

    /// The state of an order by XorPay's id (`GET /api/query/{aoid}`), retried on transient
    /// failures.
    ///
    /// # Errors
    /// A [`ClientError`] after the last try.
    pub async fn query(&self, aoid: &Aoid) -> Result<OrderState, ClientError> {
        let span = tracing::info_span!("xorpay.query", aoid = aoid.as_str());
        let path = format!("/api/query/{aoid}");
        self.query_path(Call::Query, &path).instrument(span).await
    }

    /// The state of an order by the merchant's order number (`GET /api/query2/{aid}`),
    /// signed `md5(order_id + secret)`, retried on transient failures.
    ///
    /// # Errors
    /// A [`ClientError`] after the last try.
    pub async fn query2(&self, order_id: &str) -> Result<OrderState, ClientError> {
        let span = tracing::info_span!("xorpay.query2", order_id);
        let signature = sign::query2(order_id, &self.inner.secret);
        let mut query = FormBody::new();
        query
            .pair("order_id", order_id)
            .pair("sign", signature.as_str());
        let path = format!("/api/query2/{}?{}", self.inner.aid, query.as_str());
        self.query_path(Call::Query2, &path).instrument(span).await
    }

    /// XorPay's answer about an order, by its order number (`query2`, signed, so the answer
    /// is about this merchant's order): what moves an order on by a query.
    pub(crate) async fn check(&self, order_id: &str) -> Result<QueryAnswer, ClientError> {
        let state = self.query2(order_id).await?;
        Ok(QueryAnswer::for_order_id(order_id.to_owned(), state))
    }

    /// Sends a begun refund (`POST /api/refund/{aoid}`), once its refund in doubt has been
    /// recorded (the service checks that first). It records nothing itself and is never
    /// retried: a retry could refund twice.
    ///
    /// `Ok(())` means XorPay made it. An error whose outcome is unknown
    /// ([`ClientError::outcome_unknown`]) leaves it in doubt; any other is XorPay's refusal.
    pub(crate) async fn send_refund<O>(
        &self,
        order: &Order<O, Paid>,
        ticket: RefundTicket,
    ) -> Result<(), ClientError> {
        let amount = ticket.amount();
        let span = tracing::info_span!(
            "xorpay.refund",
            order_id = order.order_id(),
            aoid = ticket.aoid().as_str(),
            amount = %amount,
        );
        async move {
            let signature = sign::refund(amount, &self.inner.secret);
            let mut body = FormBody::new();
            body.pair("price", amount.to_wire().as_str())
                .pair("sign", signature.as_str());
            let path = format!("/api/refund/{}", ticket.aoid());
            let started = Instant::now();
            let result = async {
                let answer = self.post(Call::Refund, &path, body.into_string()).await?;
                RefundResponse::from_json(&answer)
                    .and_then(RefundResponse::into_result)
                    .map_err(|error| ClientError::from_response(Call::Refund, error))
            }
            .await;
            measured(Call::Refund, started, &result);
            match &result {
                Ok(()) => tracing::info!("refunded"),
                // XorPay may have refunded: it stays counted until someone resolves it.
                Err(error) if error.outcome_unknown() => {
                    tracing::warn!(%error, "refund outcome unknown, left in doubt");
                }
                Err(error) => tracing::warn!(%error, "refund refused"),
            }
            result
        }
        .instrument(span)
        .await
    }
}

/// What XorPay answered to a creating call.
enum Answer {
    /// `/api/pay`: the order, what the payer needs, and its lifetime in seconds.
    Order {
        aoid: Aoid,
        payment: crate::response::PaymentInfo,
        lifetime: u64,
    },
    /// `/api/barcode_pay`: the payment, paid at once or waiting for the payer.
    Charged {
        aoid: Aoid,
        outcome: crate::status::BarcodeOutcome,
    },
}

/// A page whose form posts `body`'s pairs to `action` as soon as it loads, with a visible
/// button for browsers where the script does not run (no script, or a strict CSP).
pub(super) fn auto_submit_form(action: &str, body: &str) -> String {
    let mut inputs = String::new();
    for pair in body.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            crate::html::escape(&form_decode(key)),
            crate::html::escape(&form_decode(value))
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>XorPay</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
         <button type=\"submit\">去支付 Pay</button></form></body></html>",
        crate::html::escape(action)
    )
}

/// Decodes a component this crate's own `FormBody` encoded (so it is well-formed).
fn form_decode(component: &str) -> String {
    let pairs = crate::form::decode(format!("k={component}").as_bytes()).unwrap_or_default();
    pairs
        .into_iter()
        .next()
        .map(|(_, value)| value)
        .unwrap_or_default()
}

/// The payer's openid from the URL (or query string) XorPay's openid redirect came back
/// to, whether the callback had a query of its own or not (XorPay appends `&openid=…`
/// blindly, docs/protocol.md §4.1). `None` when there is none or it is empty.
///
/// ```
/// use xorpay::client::openid_from_callback;
/// assert_eq!(openid_from_callback("https://shop.example.com/pay?a=1&openid=oAbC").as_deref(), Some("oAbC"));
/// assert_eq!(openid_from_callback("https://shop.example.com/pay?&openid=oAbC").as_deref(), Some("oAbC"));
/// // A callback given without `?`: XorPay's blind `&` ends up in the path.
/// assert_eq!(openid_from_callback("https://shop.example.com/pay&openid=oAbC").as_deref(), Some("oAbC"));
/// assert_eq!(openid_from_callback("a=1&openid=").as_deref(), None);
/// ```
pub fn openid_from_callback(url_or_query: &str) -> Option<String> {
    let without_fragment = url_or_query.split('#').next().unwrap_or_default();
    // Whatever precedes the last `&openid=` or `?openid=` is the callback itself.
    let start = ["&openid=", "?openid="]
        .iter()
        .filter_map(|marker| without_fragment.rfind(marker).map(|at| at + marker.len()))
        .max()
        .or_else(|| {
            without_fragment
                .strip_prefix("openid=")
                .map(|_| "openid=".len())
        })?;
    let raw = without_fragment[start..]
        .split('&')
        .next()
        .unwrap_or_default();
    let value = form_decode(raw);
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cashier_form_escapes_every_value() {
        let html = auto_submit_form(
            "https://xorpay.com/api/cashier/1",
            "name=%22%3E%3Cscript%3E&price=1.00",
        );
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;\""),
            "{html}"
        );
        assert!(!html.contains("\"><script>"));
    }
}
