// The service's builder names a required setting that was left out: the store.
use xorpay::prelude::*;

#[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _payments: Payments<Coffee> = Payments::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .notify_url("https://shop.example.com/xorpay/notify")
        .build()?;
    Ok(())
}
