//! Builders: a merchant struct may derive `XorPayOrder` and `TypedBuilder` together (the
//! workspace's builder crate), and the service's and client's builders check their URLs when
//! built.

use typed_builder::TypedBuilder;
use xorpay::ConfigError;
use xorpay::client::Client;
use xorpay::prelude::*;

#[derive(XorPayOrder, TypedBuilder, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/xorpay/notify")]
struct Coffee {
    #[xorpay(order_id)]
    #[builder(setter(into))]
    id: String,
    #[xorpay(name)]
    #[builder(setter(into))]
    name: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(more)]
    #[builder(default, setter(strip_option, into))]
    note: Option<String>,
    /// The merchant's own field, left alone by the derive.
    #[builder(default)]
    cups: u32,
}

#[test]
fn a_merchant_struct_derives_both_and_signs_as_built() {
    let order = Coffee::builder()
        .id("c-1")
        .name("拿铁")
        .price("18.00".parse().unwrap())
        .note("no sugar")
        .build();
    assert_eq!(order.cups, 0);
    let secret = AppSecret::new("0123456789abcdef0123456789abcdef").unwrap();
    let request = order.to_request(&secret).unwrap();
    assert!(
        request
            .body()
            .starts_with("name=%E6%8B%BF%E9%93%81&pay_type=native&price=18.00&order_id=c-1&"),
        "{}",
        request.body()
    );
    assert!(request.body().contains("more=no+sugar"));
}

#[test]
fn builds_check_their_urls() {
    let secret = || AppSecret::new("0123456789abcdef0123456789abcdef").unwrap();
    let bad = Payments::<Coffee, SqliteStore>::builder()
        .aid(Aid::new("1000").unwrap())
        .secret(secret())
        .notify_url("not a url")
        .store(SqliteStore::in_memory().unwrap())
        .build();
    assert!(matches!(bad, Err(ConfigError::Client(_))));
    let plain_http = Client::builder()
        .aid(Aid::new("1000").unwrap())
        .secret(secret())
        .base_url("http://xorpay.example.com")
        .build();
    assert!(plain_http.is_err());
    // Orders that carry their own notify URL need none on the client.
    assert!(
        Client::builder()
            .aid(Aid::new("1000").unwrap())
            .secret(secret())
            .build()
            .is_ok()
    );
}
