//! The merchant's kind of XorPay account, and the per-payment limits that come with a
//! personal one (docs/protocol.md §6.1: WeChat ¥20,000 and Alipay ¥1,000 per payment for
//! personal merchants; none for 个体户 and companies). The service checks them before an order
//! is stored or sent, only when the merchant declares a personal account
//! (`Payments::builder().personal_account()`), since XorPay's answer to an order over the
//! limit is not documented.

use crate::pay_type::RequestKind;
use crate::price::Price;

/// The most one payment of `kind` may be on a personal account, in fen (yuan × 100).
pub(crate) const fn personal_limit_fen(kind: RequestKind) -> u64 {
    match kind {
        RequestKind::Alipay | RequestKind::AlipayBarcode => 1_000 * 100,
        RequestKind::Native
        | RequestKind::Jsapi
        | RequestKind::MiniProgram
        | RequestKind::Cashier
        | RequestKind::WechatBarcode => 20_000 * 100,
    }
}

/// The limit `price` exceeds for a payment of `kind` on a personal account, if it does.
pub(crate) fn over_personal_limit(kind: RequestKind, price: Price) -> Option<Price> {
    let limit = personal_limit_fen(kind);
    match price.fen() > limit {
        true => Price::from_fen(limit).ok(),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_limits_of_a_personal_account() {
        let yuan = |text: &str| text.parse::<Price>().unwrap();
        assert_eq!(
            over_personal_limit(RequestKind::Native, yuan("20000.00")),
            None
        );
        assert_eq!(
            over_personal_limit(RequestKind::Native, yuan("20000.01")),
            Some(yuan("20000.00"))
        );
        assert_eq!(
            over_personal_limit(RequestKind::Alipay, yuan("1000.00")),
            None
        );
        assert_eq!(
            over_personal_limit(RequestKind::AlipayBarcode, yuan("1000.01")),
            Some(yuan("1000.00"))
        );
    }
}
