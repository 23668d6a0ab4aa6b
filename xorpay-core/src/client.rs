//! The async client for every XorPay endpoint (feature `client`, on by default).
//!
//! It moves typed orders along: [`Client::submit`] turns an `Order<O, Created>` into an
//! `Order<O, Pending>`, [`Client::confirm`] and [`Client::settle`] move pending orders on,
//! [`Client::send_refund`] sends a refund once its store has recorded it in doubt. Each call is
//! offered only the orders it can send:
//! `submit` takes `/api/pay` orders, [`Client::barcode_pay`] barcode orders and
//! [`Client::cashier`] cashier orders, by their `Endpoint` type.
//!
//! Safe defaults: HTTPS through rustls (no OpenSSL anywhere), timeouts on every request,
//! retries with backoff for queries only (never for creating an order or refunding: a retry
//! could pay or refund twice), and a tracing span around every call that records the order
//! number, the endpoint and the outcome, never the secret, a signature or a request body.
//! Every failure is a typed [`ClientError`]; a failed submission hands the order back.
//!
//! This module does not verify notifications (see [`crate::notify`]) or store orders.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use time::OffsetDateTime;
use tracing::Instrument as _;

use crate::credentials::{Aid, AppSecret};
use crate::form::FormBody;
use crate::notify::VerifiedNotification;
use crate::order::{
    Created, Order, Paid, Pending, QueryAnswer, RefundLimit, RefundTicket, Rejected, Settled, State,
};
use crate::request::endpoint;
use crate::request::{RequestError, XorPayOrder, order_facts, request_with_client_url};
use crate::response::{
    Aoid, BarcodePayment, BarcodeResponse, CreateOrderResponse, CreatedOrder, DEFAULT_EXPIRE_SECS,
    QueryResponse, RefundResponse, ResponseError,
};
use crate::sign;
use crate::status::{ApiError, OrderState};

/// XorPay's own base URL.
pub const XORPAY_BASE_URL: &str = "https://xorpay.com";

/// The largest response body read, in bytes: XorPay's JSON answers are a few hundred bytes.
const MAX_RESPONSE: usize = 64 * 1024;

/// How many characters of an unexpected body an error keeps.
const EXCERPT: usize = 200;

/// A XorPay client for one merchant account.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use xorpay_core::client::Client;
/// use xorpay_core::{Aid, AppSecret};
///
/// let client = Client::builder()
///     .aid(Aid::new("999")?)
///     .secret(AppSecret::new(std::env::var("XORPAY_APP_SECRET").unwrap_or_default())?)
///     .notify_url("https://shop.example.com/xorpay/notify")
///     .build()?;
/// # Ok(()) }
/// ```
///
/// `aid`, `secret` and `notify_url` are required: leaving one out is a compile error. The
/// `notify_url` is the one orders declared `notify_url = from_client` are signed with.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    aid: Aid,
    secret: AppSecret,
    notify_url: String,
    timeout: Duration,
    query_retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("aid", &self.inner.aid)
            .field("secret", &self.inner.secret)
            .field("notify_url", &self.inner.notify_url)
            .field("query_retry", &self.inner.query_retry)
            .finish_non_exhaustive()
    }
}

/// How queries are retried: `attempts` tries in all, waiting `initial_backoff` before the
/// second and twice as long before each next one, at most `max_backoff`. Only connection
/// failures, timeouts, 5xx answers and non-JSON answers are retried, never an answer XorPay
/// gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included (at least one).
    pub attempts: u32,
    /// The wait before the second try.
    pub initial_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three tries, waiting 200 ms then 400 ms.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// One try, no retry.
    pub const NONE: RetryPolicy = RetryPolicy {
        attempts: 1,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };

    fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(16)).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

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
    fn name(self) -> &'static str {
        match self {
            Call::Pay => "pay",
            Call::Barcode => "barcode_pay",
            Call::Query => "query",
            Call::Query2 => "query2",
            Call::Refund => "refund",
        }
    }

    /// Whether repeating this call could repeat its effect (a second order or refund).
    fn changes_anything(self) -> bool {
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

    fn from_http(call: Call, error: reqwest::Error) -> ClientError {
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

    fn from_response(call: Call, error: ResponseError) -> ClientError {
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
    order: Order<O, Created>,
    error: ClientError,
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

/// XorPay's cashier page for one order: a signed URL, and the same as an auto-submitting
/// form, to send the payer's browser to (PROTOCOL.md §4.2). It is a page, not an API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashierPage {
    /// The signed `GET` URL.
    pub url: String,
    /// A small HTML document whose form posts the signed parameters when loaded.
    pub form_html: String,
}

#[bon::bon]
impl Client {
    /// A client for the merchant `aid`. See [`Client::builder`].
    ///
    /// # Errors
    /// [`ClientError::Config`] for a `base_url` or `notify_url` that is not an absolute
    /// http(s) URL, or when the HTTP stack cannot be set up.
    #[builder(finish_fn = build)]
    pub fn new(
        /// The merchant's app id.
        aid: Aid,
        /// The merchant's app secret.
        secret: AppSecret,
        /// The notify URL of orders declared `notify_url = from_client`.
        #[builder(into)]
        notify_url: String,
        /// XorPay's base URL, or a sandbox's. Default: [`XORPAY_BASE_URL`].
        #[builder(into, default = XORPAY_BASE_URL.to_owned())]
        base_url: String,
        /// The whole time one request may take. Default: 15 s.
        #[builder(default = Duration::from_secs(15))]
        timeout: Duration,
        /// The time to establish a connection. Default: 5 s.
        #[builder(default = Duration::from_secs(5))]
        connect_timeout: Duration,
        /// How queries are retried. Default: [`RetryPolicy::default`].
        #[builder(default)]
        query_retry: RetryPolicy,
    ) -> Result<Client, ClientError> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let base = web_url(&base_url).ok_or_else(|| {
            ClientError::Config(
                "base_url must be an absolute http(s) URL without query, fragment or user"
                    .to_owned(),
            )
        })?;
        if base.query().is_some() {
            return Err(ClientError::Config(
                "base_url must not have a query".to_owned(),
            ));
        }
        // Answers to queries move orders to paid: they must come over TLS, except from a
        // sandbox on this machine.
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(ClientError::Config(
                "base_url must use https:// (plain http:// only on loopback, for a sandbox)"
                    .to_owned(),
            ));
        }
        if web_url(&notify_url).is_none() {
            return Err(ClientError::Config(
                "notify_url must be an absolute http(s) URL without fragment or user".to_owned(),
            ));
        }
        let http = reqwest::Client::builder()
            // A redirect would carry a signed body, or query2's signed URL, elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(concat!("xorpay-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| ClientError::Config(error.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                aid,
                secret,
                notify_url,
                timeout,
                query_retry: RetryPolicy {
                    attempts: query_retry.attempts.max(1),
                    ..query_retry
                },
            }),
        })
    }
}

/// `text` as an absolute http(s) URL with a host and no fragment or user info.
fn web_url(text: &str) -> Option<reqwest::Url> {
    let url = reqwest::Url::parse(text).ok()?;
    let web = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !text.chars().any(|c| c.is_whitespace() || c.is_control());
    web.then_some(url)
}

fn is_web_url(text: &str) -> bool {
    web_url(text).is_some()
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

impl Client {
    /// The merchant's app id.
    pub fn aid(&self) -> &Aid {
        &self.inner.aid
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The notify URL of orders declared `notify_url = from_client`.
    pub fn notify_url(&self) -> &str {
        &self.inner.notify_url
    }

    /// The longest one request may take: after it, a call that got no answer has surely
    /// ended (XorPay may have acted, but will not act on it any more).
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Creates the order at XorPay (`POST /api/pay/{aid}`): native, jsapi, alipay and
    /// mini-program orders. Never retried: a retry could create it twice.
    ///
    /// # Errors
    /// [`SubmitError`], holding the order unchanged.
    pub async fn submit<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Order<O, Pending>, SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::Submit,
    {
        self.create(
            Call::Pay,
            order,
            |body| CreateOrderResponse::from_json(body).and_then(CreateOrderResponse::into_result),
            CreatedOrder::aoid,
            Order::submitted,
        )
        .await
    }

    /// Charges a scanned payment code (`POST /api/barcode_pay/{aid}`). The order stays
    /// pending until its notification or a query confirms it, even when XorPay answers
    /// `success` at once. Never retried.
    ///
    /// # Errors
    /// [`SubmitError`], holding the order unchanged; a declined code is
    /// [`ApiError::BarcodeFailed`].
    pub async fn barcode_pay<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<Order<O, Pending>, SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::BarcodePay,
    {
        self.create(
            Call::Barcode,
            order,
            |body| BarcodeResponse::from_json(body).and_then(BarcodeResponse::into_result),
            BarcodePayment::aoid,
            Order::barcode_submitted,
        )
        .await
    }

    /// Sends a submission in doubt again, identically, whatever its endpoint: `/api/pay`
    /// orders are submitted, cashier orders opened (no request). XorPay answers an identical
    /// re-submission of an unpaid order with the same order (PROTOCOL.md §3.6, an
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
    async fn create<O: XorPayOrder, A>(
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
                    &self.inner.notify_url,
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

    /// XorPay's cashier page for a cashier order, and the order as pending: send the payer's
    /// browser to the page's URL (or serve its form). No request is made here; XorPay checks
    /// the signature when the browser arrives.
    ///
    /// # Errors
    /// [`SubmitError`] with [`ClientError::Request`], holding the order unchanged.
    pub fn cashier<O>(
        &self,
        order: Order<O, Created>,
    ) -> Result<(Order<O, Pending>, CashierPage), SubmitError<O>>
    where
        O: XorPayOrder,
        O::Endpoint: endpoint::OpenCashier,
    {
        let request = match request_with_client_url(
            order.inner(),
            &self.inner.notify_url,
            &self.inner.secret,
        ) {
            Ok(request) => request,
            Err(error) => {
                return Err(SubmitError {
                    order,
                    error: error.into(),
                });
            }
        };
        let action = format!("{}/api/cashier/{}", self.inner.base_url, self.inner.aid);
        let page = CashierPage {
            url: format!("{action}?{}", request.body()),
            form_html: auto_submit_form(&action, request.body()),
        };
        let lifetime = order_facts(order.inner())
            .ok()
            .and_then(|facts| facts.expire)
            .unwrap_or(DEFAULT_EXPIRE_SECS);
        Ok((
            order.cashier_opened(lifetime, OffsetDateTime::now_utc()),
            page,
        ))
    }

    /// The URL of XorPay's openid redirect (`GET /api/openid/{aid}`), to send the payer's
    /// browser to inside WeChat. XorPay appends `&openid=…` to `callback` blindly
    /// (PROTOCOL.md §4.1), so a callback without a query gets an empty one (`?`) first; read
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
    /// saved: begin it ([`Order::begin_refund`]), save the order (`update_paid`, which
    /// refuses a stale copy), send it with this, save it again. [`crate::store::refund`] does
    /// exactly that. XorPay's answer settles it: made (added to the refunded total) or refused
    /// (cleared). Without a clear answer it stays in doubt ([`Order::refund_in_doubt`]),
    /// counted against the limits until resolved from XorPay's dashboard. Never retried: a
    /// retry could refund twice.
    ///
    /// # Errors
    /// [`ClientError::RefundLimit`] with [`RefundLimit::NotThisRefund`] when the ticket is not
    /// the order's refund in doubt, [`RefundLimit::NotRecorded`] when the order was not saved
    /// since the refund began (nothing is sent); otherwise XorPay's refusal, or an error whose
    /// outcome is unknown ([`ClientError::outcome_unknown`]).
    pub async fn send_refund<O>(
        &self,
        order: &mut Order<O, Paid>,
        ticket: RefundTicket,
    ) -> Result<(), ClientError> {
        let amount = ticket.amount();
        if order.aoid() != Some(ticket.aoid()) || order.refund_in_doubt() != Some(amount) {
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
            match result {
                Ok(()) => {
                    order.resolve_refund_in_doubt(true);
                    tracing::info!("refunded");
                    Ok(())
                }
                Err(error) if error.outcome_unknown() => {
                    // XorPay may have refunded: it stays counted until someone resolves it.
                    tracing::warn!(%error, "refund outcome unknown, left in doubt");
                    Err(error)
                }
                Err(error) => {
                    order.resolve_refund_in_doubt(false);
                    tracing::warn!(%error, "refund refused");
                    Err(error)
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn query_path(&self, call: Call, path: &str) -> Result<OrderState, ClientError> {
        let policy = self.inner.query_retry;
        let mut attempt = 0;
        loop {
            let result = async {
                let body = self.send(call, self.inner.http.get(self.url(path))).await?;
                QueryResponse::from_json(&body)
                    .map_err(|error| ClientError::from_response(call, error))?
                    .status
                    .into_result()
                    .map_err(ClientError::Api)
            }
            .await;
            attempt += 1;
            match result {
                Err(error) if error.is_transient() && attempt < policy.attempts => {
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

    async fn post(&self, call: Call, path: &str, body: String) -> Result<Vec<u8>, ClientError> {
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

    fn url(&self, path: &str) -> String {
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
                return Err(ClientError::TooLarge { call });
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

/// Whether `body` is JSON whose `status` is one of the refusals XorPay documents for `call`
/// (PROTOCOL.md §5): not a success, not a state, not a code nobody documented.
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

/// A page whose form posts `body`'s pairs to `action` as soon as it loads, with a visible
/// button for browsers where the script does not run (no script, or a strict CSP).
fn auto_submit_form(action: &str, body: &str) -> String {
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
/// blindly, PROTOCOL.md §4.1). `None` when there is none or it is empty.
///
/// ```
/// use xorpay_core::client::openid_from_callback;
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
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        assert_eq!(policy.backoff(0), Duration::from_millis(100));
        assert_eq!(policy.backoff(1), Duration::from_millis(200));
        assert_eq!(policy.backoff(2), Duration::from_millis(350));
        assert_eq!(policy.backoff(40), Duration::from_millis(350));
    }

    #[test]
    fn excerpts_are_bounded_and_single_line() {
        let body = format!("<html>\n{}</html>", "x".repeat(1000));
        let cut = excerpt(body.as_bytes());
        assert_eq!(cut.chars().count(), EXCERPT);
        assert!(!cut.contains('\n'));
    }

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

    #[test]
    fn web_urls_are_absolute_http_with_a_host() {
        assert!(is_web_url("https://xorpay.com"));
        assert!(is_web_url("http://127.0.0.1:8080"));
        assert!(is_web_url("http://例子.com/pay"));
        for bad in [
            "https://",
            "xorpay.com",
            "https://x.com/a b",
            "https://#",
            "ftp://x.com",
            "https://user:pw@x.com",
            "https://x.com/#frag",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn only_loopback_may_skip_tls() {
        let url = |text: &str| reqwest::Url::parse(text).unwrap();
        assert!(is_loopback(&url("http://127.0.0.1:9")));
        assert!(is_loopback(&url("http://localhost:9")));
        assert!(is_loopback(&url("http://[::1]:9")));
        assert!(!is_loopback(&url("http://10.0.0.1")));
        assert!(!is_loopback(&url("http://localhost.example.com")));
    }
}
