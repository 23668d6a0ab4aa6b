// A checkout answers pending or paid, whatever the kind of order: a native order needs no
// arm for a cashier page (a cashier order's page is on its pending order, `cashier()`).
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

async fn show(payments: &Payments<Coffee>, order: Coffee) -> Result<String, Box<dyn std::error::Error>> {
    Ok(match payments.checkout(order).await? {
        Checkout::Pending(pending) => pending.qr().unwrap_or_default().to_owned(),
        Checkout::Paid(paid) => format!("{} is paid", paid.order_id()),
    })
}

fn main() {
    let _ = show;
}
