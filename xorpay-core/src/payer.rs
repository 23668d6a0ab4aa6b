//! Which kind of payment to offer a payer, from the app their browser runs in (its
//! `User-Agent`) and what the merchant has set up: [`kind_for`].
//!
//! What each app can do (docs/protocol.md §3.3, §3.4, §4.2 and §6.7):
//!
//! | The payer is in | Offer | Why |
//! |---|---|---|
//! | WeChat or WeCom (`MicroMessenger`) | `jsapi` when the merchant has JSAPI set up, else `cashier` | JSAPI needs an ICP-registered domain and payment directories in XorPay's dashboard; XorPay's cashier page needs neither |
//! | Alipay's app (`AlipayClient`) | `alipay` | the answer's `qr` link opens Alipay's payment in the app itself |
//! | a phone's browser elsewhere | `alipay` | a QR cannot be scanned by the phone showing it, and personal WeChat merchants have no payment outside WeChat; the shop shows the `qr` link as a button that opens Alipay, and says that WeChat Pay needs the page opened in WeChat |
//! | a desktop browser | `native` | a WeChat QR on the screen, scanned with the phone |
//!
//! An iPad in its default "desktop" mode says it is a Mac and gets the QR; it cannot scan its
//! own screen, so the QR page should also offer the Alipay link.

use crate::pay_type::RequestKind;

/// The app a payer's browser runs in, as its `User-Agent` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayerApp {
    /// WeChat's or WeCom's built-in browser, on a phone or a desktop.
    WeChat,
    /// Alipay's app.
    Alipay,
    /// Any other browser on a phone or tablet.
    PhoneBrowser,
    /// Any other browser on a computer.
    Desktop,
}

impl PayerApp {
    /// The app `user_agent` names. A missing or unknown one is [`PayerApp::Desktop`].
    pub fn from_user_agent(user_agent: &str) -> PayerApp {
        if user_agent.contains("MicroMessenger") {
            PayerApp::WeChat
        } else if user_agent.contains("AlipayClient") {
            PayerApp::Alipay
        } else if ["Mobile", "Android", "iPhone", "iPad", "iPod", "HarmonyOS"]
            .iter()
            .any(|mark| user_agent.contains(mark))
        {
            PayerApp::PhoneBrowser
        } else {
            PayerApp::Desktop
        }
    }
}

/// What the merchant has set up with XorPay and WeChat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MerchantSetup {
    /// JSAPI is set up: an ICP-registered domain, and the pay page under one of the payment
    /// directories configured in XorPay's dashboard (docs/protocol.md §6.7).
    pub jsapi: bool,
}

impl MerchantSetup {
    /// A merchant with JSAPI set up.
    pub const JSAPI: MerchantSetup = MerchantSetup { jsapi: true };
    /// A merchant without JSAPI: WeChat payers go through XorPay's cashier page.
    pub const NO_JSAPI: MerchantSetup = MerchantSetup { jsapi: false };
}

/// The kind of payment to offer the payer whose browser sent `user_agent` (see the table in
/// the [module docs](self)).
///
/// ```
/// use xorpay::pay_type::RequestKind;
/// use xorpay::payer::{MerchantSetup, kind_for};
///
/// let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
///               (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.42(0x18002a2f)";
/// assert_eq!(kind_for(wechat, MerchantSetup::JSAPI), RequestKind::Jsapi);
/// assert_eq!(kind_for(wechat, MerchantSetup::NO_JSAPI), RequestKind::Cashier);
/// ```
pub fn kind_for(user_agent: &str, setup: MerchantSetup) -> RequestKind {
    match PayerApp::from_user_agent(user_agent) {
        PayerApp::WeChat if setup.jsapi => RequestKind::Jsapi,
        PayerApp::WeChat => RequestKind::Cashier,
        PayerApp::Alipay | PayerApp::PhoneBrowser => RequestKind::Alipay,
        PayerApp::Desktop => RequestKind::Native,
    }
}
