//! One method per XorPay endpoint: creating orders (pay, barcode, the cashier page),
//! queries, refunds, and the URLs of the openid redirect and the QR renderer.

use time::OffsetDateTime;
use tracing::Instrument as _;

use super::error::{Call, ClientError, ConfirmFailure, SettleError, SubmitError};
use super::{Client, is_web_url};
use crate::form::FormBody;
use crate::notify::VerifiedNotification;
use crate::order::{
    Created, Order, Paid, Pending, QueryAnswer, RefundLimit, RefundTicket, Settled, State,
};
use crate::request::{XorPayOrder, order_facts, request_with_client_url};
use crate::response::{
    Aoid, CreateOrderResponse, CreatedOrder, DEFAULT_EXPIRE_SECS, RefundResponse, ResponseError,
};
use crate::sign;
use crate::status::OrderState;

/// XorPay's cashier page for one order: a signed URL, and the same as an auto-submitting
/// form, to send the payer's browser to (docs/protocol.md §4.2). It is a page, not an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashierPage {
    /// The signed `GET` URL.
    pub url: String,
    /// A small HTML document whose form posts the signed parameters when loaded.
    pub form_html: String,
}

impl Client {
    /// Sends a submission in doubt again, identically, whatever its endpoint: `/api/pay`
    /// orders are submitted, cashier orders opened (no request). XorPay answers an identical
    /// re-submission of an unpaid order with the same order (docs/protocol.md §3.6, an
    /// **unconfirmed** inference); a different one would be `order_exist`, so one order number
    /// never has two live orders. Barcode orders are never re-sent: that could charge the
    /// payer's code again, so they are [`ClientError::Config`].
    pub(crate) async fn resend<O: XorPayOrder>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Order<O, Pending>, SubmitError<O>> {
        use crate::request::endpoint::EndpointMarker as _;
        match <O::Endpoint>::ENDPOINT {
            crate::pay_type::Endpoint::Pay => {
                self.create(
                    Call::Pay,
                    order,
                    |body| {
                        CreateOrderResponse::from_json(body)
                            .and_then(CreateOrderResponse::into_result)
                    },
                    CreatedOrder::aoid,
                    Order::accepted,
                )
                .await
            }
            crate::pay_type::Endpoint::Cashier => {
                let lifetime = order_facts(order.inner())
                    .ok()
                    .and_then(|facts| facts.expire)
                    .unwrap_or(DEFAULT_EXPIRE_SECS);
                Ok(order.opened(lifetime, OffsetDateTime::now_utc()))
            }
            _ => Err(SubmitError {
                order,
                error: ClientError::Config(
                    "a barcode payment is never sent twice: it could charge the code again"
                        .to_owned(),
                ),
            }),
        }
    }

    /// Sends a creating call (never retried), reads XorPay's answer with `read`, and moves
    /// the order on with `advance`.
    pub(super) async fn create<O: XorPayOrder, A>(
        &self,
        call: Call,
        order: Order<O, Created>,
        read: impl FnOnce(&[u8]) -> Result<A, ResponseError>,
        aoid_of: impl FnOnce(&A) -> &Aoid,
        advance: impl FnOnce(Order<O, Created>, A, OffsetDateTime) -> Order<O, Pending>,
    ) -> Result<Order<O, Pending>, SubmitError<O>> {
        let span = tracing::info_span!(
            "xorpay.create",
            call = call.name(),
            kind = O::KIND.keyword(),
            order_id = order.order_id(),
            aoid = tracing::field::Empty,
        );
        async move {
            let result = async {
                let request = request_with_client_url(
                    order.inner(),
                    self.inner.notify_url.as_deref(),
                    &self.inner.secret,
                )?;
                let path = match call {
                    Call::Barcode => format!("/api/barcode_pay/{}", self.inner.aid),
                    _ => format!("/api/pay/{}", self.inner.aid),
                };
                let body = self.post(call, &path, request.body().to_owned()).await?;
                read(&body).map_err(|error| ClientError::from_response(call, error))
            }
            .await;
            match result {
                Ok(answer) => {
                    tracing::Span::current().record("aoid", aoid_of(&answer).as_str());
                    tracing::info!("order created");
                    Ok(advance(order, answer, OffsetDateTime::now_utc()))
                }
                Err(error) => {
                    tracing::warn!(%error, "order not created");
                    Err(SubmitError { order, error })
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The URL of XorPay's openid redirect (`GET /api/openid/{aid}`), to send the payer's
    /// browser to inside WeChat. XorPay appends `&openid=…` to `callback` blindly
    /// (docs/protocol.md §4.1), so a callback without a query gets an empty one (`?`) first; read
    /// the openid back with [`openid_from_callback`].
    ///
    /// # Errors
    /// [`ClientError::Config`] for a callback that is not an absolute http(s) URL or that has
    /// a `#fragment` (the openid would land in the fragment, which browsers never send).
    pub fn openid_url(&self, callback: &str) -> Result<String, ClientError> {
        if !is_web_url(callback) || callback.contains('#') {
            return Err(ClientError::Config(
                "the openid callback must be an absolute http(s) URL without a #fragment"
                    .to_owned(),
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
    /// is about this merchant's order): for [`Order::settle`] in any state.
    ///
    /// # Errors
    /// A [`ClientError`] after the last try.
    pub async fn check<O, S: State>(
        &self,
        order: &Order<O, S>,
    ) -> Result<QueryAnswer, ClientError> {
        let state = self.query2(order.order_id()).await?;
        Ok(QueryAnswer::for_order_id(
            order.order_id().to_owned(),
            state,
        ))
    }

    /// Asks XorPay about a pending order and moves it on: paid, expired or still pending
    /// (for reconciling orders whose notification never came).
    ///
    /// # Errors
    /// [`SettleError`], holding the order, when the query fails.
    pub async fn settle<O>(&self, order: Order<O, Pending>) -> Result<Settled<O>, SettleError<O>> {
        match self.check(&order).await {
            Ok(answer) => order.settle(&answer).map_err(|rejected| SettleError {
                // `check` asked about this very order, so this does not happen.
                error: ClientError::Malformed {
                    call: Call::Query2,
                    reason: rejected.reason().to_string(),
                },
                order: Box::new(rejected.into_order()),
            }),
            Err(error) => Err(SettleError {
                order: Box::new(order),
                error,
            }),
        }
    }

    /// Confirms a pending order with a verified notification. An order whose `aoid` is known
    /// is confirmed without a request; a cashier order is also checked with `query2`, because
    /// only its `aoid` could otherwise pin the notification to it.
    ///
    /// # Errors
    /// [`ConfirmFailure`], holding the order.
    pub async fn confirm<O>(
        &self,
        order: Order<O, Pending>,
        notification: VerifiedNotification,
    ) -> Result<Order<O, Paid>, ConfirmFailure<O>> {
        if order.aoid().is_some() {
            return order
                .confirm(notification)
                .map_err(ConfirmFailure::Rejected);
        }
        let state = match self.query2(order.order_id()).await {
            Ok(state) => state,
            Err(error) => {
                return Err(ConfirmFailure::Query {
                    order: Box::new(order),
                    error,
                });
            }
        };
        let answer = QueryAnswer::for_order_id(order.order_id().to_owned(), state);
        order
            .confirm_with_query(notification, &answer)
            .map_err(ConfirmFailure::Rejected)
    }

    /// Sends a begun refund (`POST /api/refund/{aoid}`), once its refund in doubt has been
    /// saved: begin it ([`Order::begin_refund`]), save the order (the store refuses a stale
    /// copy), send it with this, record the answer ([`Order::resolve_refund`]) and save
    /// again. The lifecycle service does exactly that. It records nothing itself and is never
    /// retried: a retry could refund twice.
    ///
    /// `Ok(())` means XorPay made it. An error whose outcome is unknown
    /// ([`ClientError::outcome_unknown`]) leaves it in doubt, counted against the limits
    /// until resolved from XorPay's dashboard; any other error is XorPay's refusal.
    ///
    /// # Errors
    /// [`ClientError::RefundLimit`] with [`RefundLimit::NotThisRefund`] when the ticket is not
    /// the order's refund in doubt, [`RefundLimit::NotRecorded`] when the order was not saved
    /// since the refund began (nothing is sent); otherwise XorPay's refusal, or an error whose
    /// outcome is unknown.
    pub async fn send_refund<O>(
        &self,
        order: &Order<O, Paid>,
        ticket: RefundTicket,
    ) -> Result<(), ClientError> {
        let amount = ticket.amount();
        let in_doubt = order.refund_in_doubt();
        if order.aoid() != Some(ticket.aoid())
            || in_doubt.is_none_or(|refund| refund.key() != ticket.key())
        {
            return Err(RefundLimit::NotThisRefund.into());
        }
        if !order.is_recorded(&ticket) {
            return Err(RefundLimit::NotRecorded.into());
        }
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
            let result = async {
                let answer = self.post(Call::Refund, &path, body.into_string()).await?;
                RefundResponse::from_json(&answer)
                    .and_then(RefundResponse::into_result)
                    .map_err(|error| ClientError::from_response(Call::Refund, error))
            }
            .await;
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

/// A page whose form posts `body`'s pairs to `action` as soon as it loads, with a visible
/// button for browsers where the script does not run (no script, or a strict CSP).
pub(super) fn auto_submit_form(action: &str, body: &str) -> String {
    let mut inputs = String::new();
    for pair in body.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        inputs.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(&form_decode(key)),
            html_escape(&form_decode(value))
        ));
    }
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>XorPay</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{inputs}\
         <button type=\"submit\">去支付 Pay</button></form></body></html>",
        html_escape(action)
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

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
