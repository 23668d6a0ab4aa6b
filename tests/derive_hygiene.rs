//! Generated code compiles warning-free under `#![deny(warnings)]` even when the user's scope
//! shadows the prelude, and reaches the runtime through `crate = …` for re-exporters.
#![deny(warnings)]
#![allow(dead_code)]

// Shadow everything generated code could accidentally name.
struct Result;
struct Option;
struct Ok;
struct Some;
struct None;
struct Err;
struct Display;
struct Price;
struct Visit;
struct String;
mod core {}
mod xorpay_core {}

mod reexport {
    // A crate that re-exports xorpay under another name.
    pub(crate) use ::xorpay as payments;
}

#[derive(::xorpay::XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
struct Shadowed {
    #[xorpay(name)]
    name: &'static str,
    #[xorpay(price)]
    price: ::xorpay::Price,
    #[xorpay(order_id)]
    id: u32,
    #[xorpay(openid)]
    openid: &'static str,
    #[xorpay(more)]
    more: ::std::option::Option<&'static str>,
}

#[derive(reexport::payments::XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client, crate = reexport::payments)]
struct ThroughReexport {
    #[xorpay(name)]
    name: &'static str,
    #[xorpay(price)]
    price: ::xorpay::Price,
    #[xorpay(order_id)]
    id: u32,
}

#[test]
fn shadowed_names_do_not_change_the_generated_code() {
    use ::xorpay::{Signable, XorPayOrder as _};
    let secret = ::xorpay::AppSecret::new("secret").unwrap();
    let order = Shadowed {
        name: "n",
        price: ::xorpay::Price::MIN,
        id: 1,
        openid: "o",
        more: ::std::option::Option::Some("m"),
    };
    let body = order.to_request(&secret).unwrap();
    assert!(body.body().contains("&more=m&"));

    let other = ThroughReexport {
        name: "n",
        price: ::xorpay::Price::MIN,
        id: 1,
    };
    let signed = other
        .with_notify_url("https://shop.example.com/n")
        .signature(&secret);
    assert_eq!(signed.as_str().len(), 32);
}
