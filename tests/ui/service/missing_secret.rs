// The service's builder names a required setting that was left out: the secret.
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
        .notify_url("https://shop.example.com/xorpay/notify")
        .store(SqliteStore::open("orders.sqlite")?)
        .build()?;
    Ok(())
}
