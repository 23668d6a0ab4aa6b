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
    use ::xorpay::prelude::*;
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
    // md5("n" "jsapi" "0.01" "1" "https://shop.example.com/n" "secret"), computed with
    // Python's hashlib outside the project.
    assert_eq!(
        body.signature().as_str(),
        "9b8d058b0368f6e9c613b5a685909b59"
    );

    let other = ThroughReexport {
        name: "n",
        price: ::xorpay::Price::MIN,
        id: 1,
    };
    let signed = other
        .with_notify_url("https://shop.example.com/n")
        .signature(&secret)
        .unwrap();
    // md5("n" "native" "0.01" "1" "https://shop.example.com/n" "secret"), from hashlib.
    assert_eq!(signed.as_str(), "eca6ee6ee60c50bb0934975d0d7571ff");
}

/// A generic struct with a where clause, through the re-exported crate.
#[derive(reexport::payments::XorPayOrder)]
#[xorpay(kind = native, crate = reexport::payments, notify_url = "https://shop.example.com/n")]
struct Generic<'a, N>
where
    N: ::core::fmt::Display,
{
    #[xorpay(name)]
    name: &'a str,
    #[xorpay(price)]
    price: ::xorpay::Price,
    #[xorpay(order_id)]
    id: N,
}

#[test]
fn generics_work_through_a_renamed_crate() {
    use ::xorpay::prelude::*;
    let secret = ::xorpay::AppSecret::new("secret").unwrap();
    let order = Generic {
        name: "n",
        price: ::xorpay::Price::MIN,
        id: 1u8,
    };
    assert_eq!(
        order.signature(&secret).unwrap().as_str(),
        "eca6ee6ee60c50bb0934975d0d7571ff"
    );
}
