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
fn builds_check_their_settings_and_name_the_one_at_fault() {
    let service = || {
        Payments::<Coffee>::builder()
            .aid("1000")
            .secret("0123456789abcdef0123456789abcdef")
            .notify_url("https://shop.example.com/xorpay/notify")
            .store(SqliteStore::in_memory().unwrap())
    };
    let setting = |built: Result<Payments<Coffee>, ConfigError>| built.unwrap_err().setting();
    assert_eq!(
        setting(service().notify_url("not a url").no_background().build()),
        "notify_url"
    );
    assert_eq!(
        setting(service().aid("10/00").no_background().build()),
        "aid"
    );
    assert_eq!(
        setting(service().secret("secret\n").no_background().build()),
        "secret"
    );
    assert_eq!(
        setting(
            service()
                .base_url("http://xorpay.example.com")
                .no_background()
                .build()
        ),
        "base_url"
    );
    assert_eq!(
        setting(service().notify_path("notify").no_background().build()),
        "notify_path"
    );
    // Pruning in the background needs the background work, and a hook to close orders.
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    let error = service()
        .prune_closed_after(week)
        .no_background()
        .build()
        .unwrap_err();
    assert_eq!(error.setting(), "prune_closed_after");
    assert!(error.reason().contains("payments.prune"), "{error}");
    let error = service().prune_closed_after(week).build().unwrap_err();
    assert_eq!(error.setting(), "prune_closed_after");
    assert!(error.reason().contains(".hook"), "{error}");
    // The background work needs a tokio runtime, and this test has none: said, not a panic.
    let error = service().build().unwrap_err();
    assert!(error.reason().contains("no_background"), "{error}");
    assert!(service().no_background().build().is_ok());

    let plain_http = Client::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .base_url("http://xorpay.example.com")
        .build();
    assert_eq!(plain_http.unwrap_err().setting(), "base_url");
    // A client needs no notify URL: it moves no money.
    assert!(
        Client::builder()
            .aid("1000")
            .secret("0123456789abcdef0123456789abcdef")
            .build()
            .is_ok()
    );
}
