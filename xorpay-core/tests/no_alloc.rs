//! Signing allocates nothing: every formula runs under a global allocator that counts this
//! thread's allocations.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use xorpay_core::sign::{self, BarcodeFields, NotifyFields, PayFields};
use xorpay_core::{AppSecret, BarcodePayType, PayType, Price};

struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// const-initialised thread-local without a destructor, so touching it cannot allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn allocations_during(work: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    work();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn the_counter_sees_allocations() {
    // Guards the test itself: if counting were broken, the zero below would mean nothing.
    let counted = allocations_during(|| {
        std::hint::black_box(vec![1u8; 64]);
    });
    assert_eq!(counted, 1);
}

#[test]
fn every_formula_signs_without_allocating() {
    let secret = AppSecret::new("0123456789abcdef0123456789abcdef").unwrap();
    let price: Price = "19999.99".parse().unwrap();
    let mut hex = [0u8; 32];
    let counted = allocations_during(|| {
        let signatures = [
            sign::pay(
                &PayFields {
                    name: "会员 VIP 月卡 🎉",
                    pay_type: PayType::Alipay,
                    price,
                    order_id: "vip-20261127-0001",
                    notify_url: "https://m.example.cn/api/xorpay/notify",
                },
                &secret,
            ),
            sign::barcode(
                &BarcodeFields {
                    name: "门店订单",
                    pay_type: BarcodePayType::WechatBarcode,
                    price,
                    order_id: "demo-barcode-1",
                    notify_url: "https://merchant.example.com/xorpay_notify",
                    barcode: "134657556554411111",
                },
                &secret,
            ),
            sign::query2("订单-42", &secret),
            sign::refund(price, &secret),
            sign::notify(
                &NotifyFields {
                    aoid: "e19c8c8673ba42419043fc92b99303c1",
                    order_id: "order-1",
                    pay_price: "50.00",
                    pay_time: "2019-01-01 00:00:00",
                },
                &secret,
            ),
        ];
        for signature in &signatures {
            hex.copy_from_slice(signature.as_str().as_bytes());
            assert_eq!(signature.verify(signature.as_str()), Ok(()));
        }
        std::hint::black_box(&hex);
    });
    assert_eq!(counted, 0, "signing allocated {counted} times");
}

/// Parsing and verifying a notification allocates twice: the one buffer of decoded values and
/// the verified `aoid` (the first version made 16 to 17 allocations per notification).
#[test]
fn a_notification_is_parsed_and_verified_in_two_allocations() {
    use xorpay_core::Notification;
    let secret = AppSecret::new("mock_secret").unwrap();
    // The shared vector, with escapes in pay_time and detail, as XorPay sends it.
    let body = b"aoid=e19c8c8673ba42419043fc92b99303c1&order_id=order-1&pay_price=50.00\
        &pay_time=2019-01-01+00%3A00%3A00&more=&detail=%7B%22buyer%22%3A%22o***%40x.com%22%7D\
        &sign=1697d616f596edc250419d79f754ad16";
    let mut order_id_len = 0;
    let counted = allocations_during(|| {
        let verified = Notification::parse(body).unwrap().verify(&secret).unwrap();
        order_id_len = std::hint::black_box(&verified).order_id().len();
    });
    assert_eq!(order_id_len, "order-1".len());
    assert!(counted <= 2, "{counted} allocations");
}
