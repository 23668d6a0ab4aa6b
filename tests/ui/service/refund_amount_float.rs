// Money is never a float: a refund's amount is a `Price`.
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

async fn refund(payments: &Payments<Coffee>, paid: &Order<Coffee, Paid>) {
    let _ = payments.refund(paid, 0.01, "refund-1").await;
}

fn main() {
    let _ = refund;
}
