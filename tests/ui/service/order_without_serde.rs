// The service stores each order as JSON before sending it: an order struct without serde's
// derives is refused with the derive to add.
use xorpay::prelude::*;

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let payments = Payments::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .notify_url("https://shop.example.com/xorpay/notify")
        .store(SqliteStore::open("orders.sqlite")?)
        .build()?;
    let coffee = Coffee { id: "c-1".into(), name: "Latte".into(), price: Price::MIN };
    payments.checkout(coffee).await?;
    Ok(())
}
