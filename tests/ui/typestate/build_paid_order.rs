// An Order<_, Paid> cannot be assembled by hand: its fields are private.
use std::marker::PhantomData;
use xorpay::order::{Order, Paid, PaidData};
use xorpay::Price;

fn forge(order: String, data: PaidData) -> Order<String, Paid> {
    Order { order, order_id: "1".into(), price: Price::MIN, data, state: PhantomData }
}

fn main() {
    let _ = forge;
}
