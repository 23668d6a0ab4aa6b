//! The slice of XorPay's protocol that must be known at compile time: the request kinds, the
//! protocol fields a struct can map, which fields each kind requires, allows or forbids, and
//! the order of the signed ones (docs/protocol.md §1.3, §3, §4.2, §4.3).
//!
//! Everything that can be decided at run time lives in `xorpay-core`; this table exists here
//! because a missing or misplaced field must be a compile error.

/// A kind of payment request, named as in `#[xorpay(kind = ...)]`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Native,
    Jsapi,
    Alipay,
    MiniProgram,
    Cashier,
    WechatBarcode,
    AlipayBarcode,
}

impl Kind {
    pub(crate) const ALL: [Kind; 7] = [
        Kind::Native,
        Kind::Jsapi,
        Kind::Alipay,
        Kind::MiniProgram,
        Kind::Cashier,
        Kind::WechatBarcode,
        Kind::AlipayBarcode,
    ];

    /// The word written in the attribute.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Kind::Native => "native",
            Kind::Jsapi => "jsapi",
            Kind::Alipay => "alipay",
            Kind::MiniProgram => "mini_program",
            Kind::Cashier => "cashier",
            Kind::WechatBarcode => "wechat_barcode",
            Kind::AlipayBarcode => "alipay_barcode",
        }
    }

    /// The variant of `xorpay::RequestKind` this kind generates.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            Kind::Native => "Native",
            Kind::Jsapi => "Jsapi",
            Kind::Alipay => "Alipay",
            Kind::MiniProgram => "MiniProgram",
            Kind::Cashier => "Cashier",
            Kind::WechatBarcode => "WechatBarcode",
            Kind::AlipayBarcode => "AlipayBarcode",
        }
    }

    pub(crate) fn from_keyword(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.keyword() == word)
    }

    /// `native, jsapi, …` for error messages.
    pub(crate) fn list() -> String {
        let words: Vec<&str> = Kind::ALL.iter().map(|kind| kind.keyword()).collect();
        words.join(", ")
    }

    fn is_barcode(self) -> bool {
        matches!(self, Kind::WechatBarcode | Kind::AlipayBarcode)
    }

    /// Whether this kind requires, allows or forbids `key`, and why it forbids it.
    pub(crate) fn presence(self, key: Key) -> Presence {
        use Presence::{Forbidden, Optional, Required};
        match key {
            Key::Name | Key::Price | Key::OrderId | Key::NotifyUrl => Required,
            Key::OrderUid | Key::More => Optional,
            Key::Expire if self.is_barcode() => {
                Forbidden("barcode payments take no `expire` (docs/protocol.md §4.3)")
            }
            Key::Expire => Optional,
            Key::Barcode if self.is_barcode() => Required,
            Key::Barcode => Forbidden(
                "only `wechat_barcode` and `alipay_barcode` orders carry the customer's barcode",
            ),
            Key::Openid => match self {
                Kind::Jsapi | Kind::MiniProgram => Required,
                Kind::Cashier => Forbidden("the cashier obtains the payer's openid itself"),
                _ => Forbidden("only `jsapi` and `mini_program` orders carry an openid"),
            },
            Key::ReturnUrl => match self {
                Kind::Jsapi | Kind::Cashier => Optional,
                _ => Forbidden(
                    "only `jsapi` and `cashier` orders take a return_url (docs/protocol.md §6.6)",
                ),
            },
            Key::CancelUrl => match self {
                Kind::Cashier => Optional,
                _ => Forbidden("only `cashier` orders take a cancel_url (docs/protocol.md §6.6)"),
            },
            Key::Appid => match self {
                Kind::MiniProgram => Required,
                _ => Forbidden("only `mini_program` orders carry the mini program's appid"),
            },
        }
    }
}

/// Whether a kind needs a protocol field.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Presence {
    Required,
    Optional,
    /// Forbidden, with the reason to show.
    Forbidden(&'static str),
}

/// A protocol field a struct field can be mapped to, as in `#[xorpay(price)]`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum Key {
    Name,
    Price,
    OrderId,
    NotifyUrl,
    Barcode,
    OrderUid,
    More,
    Expire,
    Openid,
    ReturnUrl,
    CancelUrl,
    Appid,
}

impl Key {
    /// In the order generated code visits them: the signed ones in signature order first.
    pub(crate) const ALL: [Key; 12] = [
        Key::Name,
        Key::Price,
        Key::OrderId,
        Key::NotifyUrl,
        Key::Barcode,
        Key::OrderUid,
        Key::More,
        Key::Expire,
        Key::Openid,
        Key::ReturnUrl,
        Key::CancelUrl,
        Key::Appid,
    ];

    /// The word in the attribute, which is also the protocol's parameter name.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Key::Name => "name",
            Key::Price => "price",
            Key::OrderId => "order_id",
            Key::NotifyUrl => "notify_url",
            Key::Barcode => "barcode",
            Key::OrderUid => "order_uid",
            Key::More => "more",
            Key::Expire => "expire",
            Key::Openid => "openid",
            Key::ReturnUrl => "return_url",
            Key::CancelUrl => "cancel_url",
            Key::Appid => "appid",
        }
    }

    pub(crate) fn from_keyword(word: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|key| key.keyword() == word)
    }

    /// `name, price, …` for error messages.
    pub(crate) fn list() -> String {
        let words: Vec<&str> = Key::ALL.iter().map(|key| key.keyword()).collect();
        words.join(", ")
    }

    /// Whether the value is covered by the signature (`pay_type` is signed too but comes from
    /// the kind, not from a field).
    pub(crate) fn is_signed(self) -> bool {
        matches!(
            self,
            Key::Name | Key::Price | Key::OrderId | Key::NotifyUrl | Key::Barcode
        )
    }

    /// What the field holds, for "add #[xorpay(x)] to the field holding …" advice.
    pub(crate) fn holds(self) -> &'static str {
        match self {
            Key::Name => "the product name shown to the payer",
            Key::Price => "the amount, a `xorpay::Price`",
            Key::OrderId => "your order number",
            Key::NotifyUrl => "the notification URL",
            Key::Barcode => "the code scanned from the customer's phone",
            Key::OrderUid => "your user label",
            Key::More => "the free text echoed in the notification",
            Key::Expire => "the order lifetime in seconds",
            Key::Openid => "the payer's openid from XorPay's openid redirect",
            Key::ReturnUrl => "the page to return to after paying",
            Key::CancelUrl => "the page to go to when the payer cancels",
            Key::Appid => "the mini program's appid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_keys_come_first_in_signature_order() {
        let signed: Vec<&str> = Key::ALL
            .iter()
            .filter(|key| key.is_signed())
            .map(|key| key.keyword())
            .collect();
        // docs/protocol.md §1.3, with pay_type (from the kind) between name and price.
        assert_eq!(
            signed,
            ["name", "price", "order_id", "notify_url", "barcode"]
        );
        let first_unsigned = Key::ALL.iter().position(|key| !key.is_signed());
        assert_eq!(first_unsigned, Some(signed.len()));
    }

    #[test]
    fn every_kind_requires_the_pay_formula_fields() {
        for kind in Kind::ALL {
            for key in [Key::Name, Key::Price, Key::OrderId, Key::NotifyUrl] {
                assert_eq!(kind.presence(key), Presence::Required, "{kind:?} {key:?}");
            }
        }
    }
}
