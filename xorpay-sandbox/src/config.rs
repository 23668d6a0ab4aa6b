//! The sandbox's configuration: what a test, an example or the binary chooses
//! ([`SandboxConfig`], built with `Sandbox::builder()`), and the fixed settings every route
//! reads ([`Config`]). At the bottom of the crate: it imports only the atoms (`ids`, `sign`,
//! `magic`).

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use typed_builder::TypedBuilder;

use crate::magic::MagicAmount;

/// How a sandbox is set up: built with [`crate::Sandbox::builder`], then started with
/// [`SandboxConfig::start`] (or [`SandboxConfig::serve`] on a listener of your own).
///
/// Every setting has a default: one merchant, aid `1000` with a random 32-hex-digit secret,
/// `127.0.0.1:0` (an ephemeral port), retry unit one minute, case-insensitive signatures,
/// unlimited balance, a fee of 100 basis points (1 %), a notification timeout of 10 seconds,
/// account not frozen.
#[derive(TypedBuilder)]
#[builder(builder_method(vis = "pub(crate)"))]
#[must_use = "a configuration does nothing until started"]
pub struct SandboxConfig {
    /// The (first) merchant's `aid`; requests for an aid the sandbox does not host get
    /// `aid_not_exist`.
    #[builder(default = "1000".to_owned(), setter(into))]
    pub(crate) aid: String,
    /// The (first) merchant's app secret, which checks its requests and signs its orders'
    /// notifications.
    #[builder(default = crate::ids::nonce(), setter(into))]
    pub(crate) secret: String,
    /// Further merchants on the same sandbox, as `(aid, secret)` pairs, as one XorPay hosts
    /// many shops: each has its own order numbers (two merchants may both have `order-1`),
    /// its own secret and an unlimited balance. Default: none.
    #[builder(default, setter(transform = |merchants: &[(&str, &str)]| merchants
        .iter()
        .map(|&(aid, secret)| (aid.to_owned(), secret.to_owned()))
        .collect()))]
    pub(crate) more_merchants: Vec<(String, String)>,
    /// The address to listen on; it must be a loopback address. Port 0 picks a free port.
    #[builder(default = SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))]
    pub(crate) listen: SocketAddr,
    /// The unit of the retry schedule: retries come 1, 2, 4, 16, 64 and 300 units after the
    /// previous attempt. XorPay's unit is a minute; tests use a few milliseconds.
    #[builder(default = Duration::from_secs(60))]
    pub(crate) retry_unit: Duration,
    /// Refuse request signatures in uppercase hex (XorPay very probably accepts both).
    #[builder(default)]
    pub(crate) strict_lowercase_sign: bool,
    /// The merchant's prepaid balance in fen; `None` (the default) is unlimited.
    #[builder(default)]
    pub(crate) balance_fen: Option<u64>,
    /// XorPay's fee in basis points of each payment (100 = 1 %); at least 1 fen per paid order
    /// unless the rate is 0.
    #[builder(default = 100)]
    pub(crate) fee_rate_bp: u32,
    /// How long one notification request may take before it counts as failed.
    #[builder(default = Duration::from_secs(10))]
    pub(crate) notify_timeout: Duration,
    /// Start with the merchant account frozen (`app_off`).
    #[builder(default)]
    pub(crate) app_off: bool,
    /// Turn on the magic amounts ([`crate::MagicAmount`]): prices such as `4.02` or `5.04`
    /// that take one of XorPay's unhappy paths. Default: off, every price behaves as usual.
    #[builder(default)]
    pub(crate) magic_amounts: bool,
    /// Keep the orders in this file between runs: loaded when the sandbox starts (when it
    /// exists; then its balance and frozen flag win over the settings above), saved after
    /// every change. Deliveries under way when it was saved start their schedule again.
    /// Default: none, the orders live in memory only.
    #[builder(default, setter(strip_option, into))]
    pub(crate) state_file: Option<std::path::PathBuf>,
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("aid", &self.aid)
            .field("secret", &"<redacted>")
            .field(
                "more_merchants",
                &self
                    .more_merchants
                    .iter()
                    .map(|(aid, _)| aid)
                    .collect::<Vec<_>>(),
            )
            .field("listen", &self.listen)
            .field("retry_unit", &self.retry_unit)
            .field("strict_lowercase_sign", &self.strict_lowercase_sign)
            .field("balance_fen", &self.balance_fen)
            .field("fee_rate_bp", &self.fee_rate_bp)
            .field("notify_timeout", &self.notify_timeout)
            .field("app_off", &self.app_off)
            .field("magic_amounts", &self.magic_amounts)
            .field("state_file", &self.state_file)
            .finish()
    }
}

/// The sandbox's settings, as every route reads them. The mutable ones (balance, frozen
/// account) live in the ledger; each secret, which its merchant can reset, has its own lock.
pub(crate) struct Config {
    /// Every merchant hosted, the first one first.
    merchants: Vec<Merchant>,
    pub(crate) retry_unit: Duration,
    pub(crate) strict_lowercase_sign: bool,
    pub(crate) fee_rate_bp: u32,
    pub(crate) notify_timeout: Duration,
    magic_amounts: bool,
}

/// One merchant account: its aid, its secret and the `appId` of its JSAPI answers.
pub(crate) struct Merchant {
    pub(crate) aid: String,
    pub(crate) secret: Secret,
    /// `wx` and 16 hex characters derived from the aid.
    pub(crate) wechat_app_id: String,
}

impl Config {
    /// The settings of a sandbox hosting `merchants`, `(aid, secret)` pairs, the first first
    /// (there is at least one: the builder always has an aid).
    pub(crate) fn new(
        merchants: Vec<(String, String)>,
        retry_unit: Duration,
        strict_lowercase_sign: bool,
        fee_rate_bp: u32,
        notify_timeout: Duration,
        magic_amounts: bool,
    ) -> Config {
        let merchants = merchants
            .into_iter()
            .map(|(aid, secret)| Merchant {
                wechat_app_id: format!("wx{}", &crate::sign::md5_hex(&aid)[..16]),
                aid,
                secret: Secret::new(secret),
            })
            .collect();
        Config {
            merchants,
            retry_unit,
            strict_lowercase_sign,
            fee_rate_bp,
            notify_timeout,
            magic_amounts,
        }
    }

    /// The magic amount an order of `fen` stands for, when magic amounts are on.
    pub(crate) fn magic(&self, fen: u64) -> Option<MagicAmount> {
        if self.magic_amounts {
            MagicAmount::of(fen)
        } else {
            None
        }
    }

    /// The merchant with this aid, if the sandbox hosts it.
    pub(crate) fn merchant(&self, aid: &str) -> Option<&Merchant> {
        self.merchants.iter().find(|merchant| merchant.aid == aid)
    }

    /// The first merchant: the one `Sandbox::aid` and `Sandbox::secret` speak of.
    pub(crate) fn first(&self) -> &Merchant {
        &self.merchants[0]
    }

    /// Every aid hosted, the first first.
    pub(crate) fn aids(&self) -> impl Iterator<Item = &str> {
        self.merchants.iter().map(|merchant| merchant.aid.as_str())
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("aids", &self.aids().collect::<Vec<_>>())
            .field("retry_unit", &self.retry_unit)
            .field("strict_lowercase_sign", &self.strict_lowercase_sign)
            .field("fee_rate_bp", &self.fee_rate_bp)
            .field("notify_timeout", &self.notify_timeout)
            .field("magic_amounts", &self.magic_amounts)
            .finish()
    }
}

/// The merchant's app secret, which the merchant can reset ([`crate::Sandbox::rotate_secret`]).
pub(crate) struct Secret(std::sync::RwLock<std::sync::Arc<str>>);

impl Secret {
    pub(crate) fn new(secret: String) -> Secret {
        Secret(std::sync::RwLock::new(secret.into()))
    }

    /// The secret now.
    pub(crate) fn get(&self) -> std::sync::Arc<str> {
        let secret = self
            .0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::sync::Arc::clone(&secret)
    }

    pub(crate) fn set(&self, secret: &str) {
        let mut current = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *current = secret.into();
    }
}
