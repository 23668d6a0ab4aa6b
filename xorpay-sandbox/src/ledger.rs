//! The sandbox's books: every order, the openids it issued, the merchant's balance, and every
//! rule that moves an order between states.
//!
//! Rules owned here (docs/protocol.md §3.6, §4.6, §5, §6.8, §7, §10; the **UNCONFIRMED** ones
//! are this sandbox's documented choices, among them that a `fee_error` order's notification
//! is held back, that refunds add up, and that a 51st refund gets `order_error`):
//! - **States**: `new` → (payer pays) `payed` → (a genuine notification gets HTTP 200)
//!   `success`; `new` → `expire` once `expire` seconds have passed on the sandbox clock
//!   (checked whenever the order is looked at); `new` → `fee_error` when the payer pays but
//!   the balance cannot cover the fee.
//! - **Order-id reuse** (one namespace per merchant, shared by pay, cashier and barcode): a
//!   paid order (`payed`, `success`, `fee_error`) → `order_payed`; an expired one →
//!   `order_expire`; an unpaid one with exactly the same parameters (every parameter, signed
//!   or not, and the same endpoint) → the same order, answered with the very same response;
//!   with any difference → `order_exist`.
//! - **Fee**: `fee = ceil(price_fen × fee_rate_bp / 10000)`, at least 1 fen, or 0 when the
//!   rate is 0. Creating an order needs `balance ≥ fee` (else `fee_error`, nothing is
//!   created); paying deducts the fee, and when the balance has meanwhile fallen below it the
//!   order becomes `fee_error` and its notification is held back. No balance configured means
//!   unlimited.
//! - **Refunds**: only for `success` orders (else `order_error`, also for an unknown aoid);
//!   the sum of all refunds may not exceed the amount paid (`price_error`); at most 50 per
//!   order, and the 51st gets `order_error` (the order, not the amount, refuses it). A refund
//!   does not change the order's state: XorPay documents no refund state.
//! - **Barcode**: the outcome is decided from the payment code before anything is created
//!   (see [`BarcodeOutcome::of`]); a failed code creates no order.
//!
//! This module does no I/O: the routes parse and authenticate requests, and the `notify`
//! module delivers what [`Ledger::pay`] decides to deliver.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use xorpay_core::Price;

use crate::clock::{china_date, china_time, unix_seconds};
use crate::config::Config;
use crate::faults::OrderFault;
use crate::ids;
use crate::magic::MagicAmount;
use crate::orders::{
    DeliveryAttempt, DeliveryRecord, DeliveryState, OrderKind, OrderState, OrderView, PayError,
    PaymentView, RefundRecord,
};
use crate::sign;

/// XorPay's default order lifetime in seconds (docs/protocol.md §6.3).
pub(crate) const DEFAULT_EXPIRE_SECS: u64 = 7200;

/// The most partial refunds per order (docs/protocol.md §4.6).
pub(crate) const MAX_REFUNDS: usize = 50;

/// A notification's fields in the order XorPay sends them (docs/protocol.md §7).
const NOTIFY_FIELDS: [&str; 7] = [
    "aoid",
    "order_id",
    "pay_price",
    "pay_time",
    "more",
    "detail",
    "sign",
];

/// How the payer pays an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paying {
    /// While the order is `new`.
    OnTime,
    /// Also an order XorPay already expired (the race at the end of its lifetime).
    Late,
    /// While `new`, but XorPay's fee cannot be taken, whatever the balance: the order becomes
    /// `fee_error` (`xorpay trigger fee_error`).
    FeeShort,
}

/// A checked order request: what decides whether a reused `order_id` is "the same order".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NewOrder {
    /// The merchant whose order it is.
    pub(crate) aid: String,
    pub(crate) kind: OrderKind,
    pub(crate) name: String,
    pub(crate) pay_type: String,
    /// The price exactly as sent.
    pub(crate) price: String,
    pub(crate) price_fen: u64,
    pub(crate) order_id: String,
    pub(crate) notify_url: String,
    pub(crate) order_uid: Option<String>,
    pub(crate) more: Option<String>,
    pub(crate) expire: Option<u64>,
    pub(crate) openid: Option<String>,
    /// The mini program's appid when `is_mini=true` (docs/protocol.md §3.5a).
    pub(crate) mini_appid: Option<String>,
    pub(crate) barcode: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) cancel_url: Option<String>,
}

/// What the payment channel answers for a barcode (付款码), decided by the code alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BarcodeOutcome {
    /// Paid at once (`success`).
    Paid,
    /// Waiting for the payer's password (`new`); pay it through the sandbox.
    Waiting,
    /// The channel refused the code; its code is passed through as `status` (§8 item 14).
    Failed(&'static str),
}

impl BarcodeOutcome {
    /// The sandbox's barcode rule:
    /// - `wechat_barcode` needs 18 digits starting `10` to `15` (docs/protocol.md §4.3);
    ///   `alipay_barcode` needs 16 to 24 digits starting `25` to `30` (Alipay's published
    ///   range; the doc's "starts with 28" is narrower, §8 item 15). Anything else →
    ///   `AUTH_CODE_INVALID`.
    /// - A valid code ending in `0000` waits for the payer (`new`); any other valid code is
    ///   paid at once (`success`).
    pub(crate) fn of(pay_type: &str, barcode: &str) -> BarcodeOutcome {
        let digits = barcode.bytes().all(|b| b.is_ascii_digit());
        let prefix: u32 = barcode
            .get(..2)
            .and_then(|prefix| prefix.parse().ok())
            .unwrap_or(0);
        let valid = digits
            && match pay_type {
                "wechat_barcode" => barcode.len() == 18 && (10..=15).contains(&prefix),
                "alipay_barcode" => {
                    (16..=24).contains(&barcode.len()) && (25..=30).contains(&prefix)
                }
                _ => false,
            };
        if !valid {
            BarcodeOutcome::Failed("AUTH_CODE_INVALID")
        } else if barcode.ends_with("0000") {
            BarcodeOutcome::Waiting
        } else {
            BarcodeOutcome::Paid
        }
    }
}

/// A created (or re-found) order.
#[derive(Debug)]
pub(crate) struct Created {
    pub(crate) aoid: String,
    /// The JSON answer for pay and barcode (the cashier renders a page instead).
    pub(crate) response: Value,
    /// Whether a notification must now be delivered (a barcode paid at once).
    pub(crate) start_delivery: bool,
    /// Whether the answer must be lost: a new order of the magic amount that loses it (a
    /// retry for the same order is answered).
    pub(crate) lose_answer: bool,
}

/// A notification to deliver, as decided at payment time.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) notify_url: String,
    /// The genuine form fields, in XorPay's order.
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) fault: Option<OrderFault>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Payment {
    view: PaymentView,
    fields: Vec<(String, String)>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Order {
    seq: u64,
    aoid: String,
    request: NewOrder,
    expire_secs: u64,
    created: SystemTime,
    state: OrderState,
    info: Value,
    response: Value,
    payer_openid: Option<String>,
    payment: Option<Payment>,
    refunds: Vec<RefundRecord>,
    fault: Option<OrderFault>,
    delivery: DeliveryState,
    deliveries: Vec<DeliveryAttempt>,
}

impl Order {
    /// When the order expires; `None` when its lifetime reaches past anything the system
    /// clock can hold, which means never.
    fn expires_at(&self) -> Option<SystemTime> {
        self.created
            .checked_add(Duration::from_secs(self.expire_secs))
    }

    /// Expiry is checked lazily, whenever the order is looked at.
    fn refresh(&mut self, now: SystemTime) {
        if self.state == OrderState::New && self.expires_at().is_some_and(|at| now >= at) {
            self.state = OrderState::Expire;
        }
    }

    fn refunded_fen(&self) -> u64 {
        self.refunds.iter().map(|refund| refund.fen).sum()
    }

    fn view(&self) -> OrderView {
        OrderView {
            aoid: self.aoid.clone(),
            aid: self.request.aid.clone(),
            kind: self.request.kind,
            order_id: self.request.order_id.clone(),
            name: self.request.name.clone(),
            pay_type: self.request.pay_type.clone(),
            price: self.request.price.clone(),
            price_fen: self.request.price_fen,
            notify_url: self.request.notify_url.clone(),
            order_uid: self.request.order_uid.clone(),
            more: self.request.more.clone(),
            openid: self
                .request
                .openid
                .clone()
                .or_else(|| self.payer_openid.clone()),
            barcode: self.request.barcode.clone(),
            return_url: self.request.return_url.clone(),
            cancel_url: self.request.cancel_url.clone(),
            state: self.state,
            created_at: china_time(self.created),
            expires_at: self.expires_at().map(china_time),
            expires_in: self.expire_secs,
            info: self.info.clone(),
            payment: self.payment.as_ref().map(|payment| payment.view.clone()),
            refunds: self.refunds.clone(),
            refunded_fen: self.refunded_fen(),
            fault: self.fault,
            delivery: self.delivery,
            deliveries: self.deliveries.clone(),
        }
    }
}

/// XorPay's fee for a payment of `price_fen`: `ceil(price × rate / 10000)`, at least one fen,
/// or nothing when the rate is 0.
pub(crate) fn fee_fen(price_fen: u64, fee_rate_bp: u32) -> u64 {
    if fee_rate_bp == 0 {
        return 0;
    }
    let fee = (u128::from(price_fen) * u128::from(fee_rate_bp)).div_ceil(10_000);
    u64::try_from(fee).unwrap_or(u64::MAX).max(1)
}

/// WeChat's JSAPI `paySign`: uppercase MD5 of the five other fields as a sorted query string,
/// then `&key=` and the merchant key (here the app secret, which only the sandbox knows).
pub(crate) fn jsapi_pay_sign(
    app_id: &str,
    time_stamp: &str,
    nonce_str: &str,
    package: &str,
    sign_type: &str,
    secret: &str,
) -> String {
    sign::md5_hex(&format!(
        "appId={app_id}&nonceStr={nonce_str}&package={package}&signType={sign_type}\
         &timeStamp={time_stamp}&key={secret}"
    ))
    .to_ascii_uppercase()
}

/// A merchant's account with XorPay: its prepaid balance and whether it is frozen.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Account {
    /// The prepaid balance in fen; `None` is unlimited.
    pub(crate) balance_fen: Option<u64>,
    /// Frozen (`app_off`).
    pub(crate) app_off: bool,
}

/// The books of every merchant the sandbox hosts. Serialised whole, as the state file of a
/// sandbox that keeps its orders.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Ledger {
    /// Every order, by aoid (unique across merchants).
    orders: HashMap<String, Order>,
    /// aid → order_id → aoid: order numbers are the merchant's own, so two merchants may
    /// use the same one.
    by_order_id: HashMap<String, HashMap<String, String>>,
    by_prepay_id: HashMap<String, String>,
    openids: HashSet<String>,
    /// aid → account.
    accounts: HashMap<String, Account>,
    next_seq: u64,
}

impl Ledger {
    /// Empty books with one account, the first merchant's.
    pub(crate) fn new(aid: String, balance_fen: Option<u64>, app_off: bool) -> Ledger {
        Ledger {
            orders: HashMap::new(),
            by_order_id: HashMap::new(),
            by_prepay_id: HashMap::new(),
            openids: HashSet::new(),
            accounts: HashMap::from([(
                aid,
                Account {
                    balance_fen,
                    app_off,
                },
            )]),
            next_seq: 0,
        }
    }

    /// Opens an account for `aid` (unlimited, not frozen) unless it has one.
    pub(crate) fn open_account(&mut self, aid: &str) {
        if !self.accounts.contains_key(aid) {
            self.accounts.insert(aid.to_owned(), Account::default());
        }
    }

    /// The account of `aid` (a default one for an aid without).
    pub(crate) fn account(&self, aid: &str) -> Account {
        self.accounts.get(aid).copied().unwrap_or_default()
    }

    /// The account of `aid`, to change.
    pub(crate) fn account_mut(&mut self, aid: &str) -> &mut Account {
        self.accounts.entry(aid.to_owned()).or_default()
    }

    /// Issues an openid, as the openid route does, and remembers it for JSAPI orders.
    pub(crate) fn issue_openid(&mut self) -> String {
        let openid = ids::openid();
        self.openids.insert(openid.clone());
        openid
    }

    pub(crate) fn knows_openid(&self, openid: &str) -> bool {
        self.openids.contains(openid)
    }

    /// Creates an order, or applies the order-id rules to an existing one. Errors are status
    /// codes.
    pub(crate) fn create(
        &mut self,
        request: NewOrder,
        barcode: Option<BarcodeOutcome>,
        config: &Config,
        now: SystemTime,
    ) -> Result<Created, &'static str> {
        let Some(merchant) = config.merchant(&request.aid) else {
            return Err("aid_not_exist");
        };
        if let Some(order) = self
            .by_order_id
            .get(&request.aid)
            .and_then(|orders| orders.get(&request.order_id))
            .and_then(|aoid| self.orders.get_mut(aoid))
        {
            order.refresh(now);
            return match order.state {
                OrderState::Payed | OrderState::Success | OrderState::FeeError => {
                    Err("order_payed")
                }
                OrderState::Expire => Err("order_expire"),
                OrderState::New if order.request == request => Ok(Created {
                    aoid: order.aoid.clone(),
                    response: order.response.clone(),
                    start_delivery: false,
                    lose_answer: false,
                }),
                OrderState::New => Err("order_exist"),
            };
        }
        let fee = fee_fen(request.price_fen, config.fee_rate_bp);
        if self
            .account(&request.aid)
            .balance_fen
            .is_some_and(|balance| balance < fee)
        {
            return Err("fee_error");
        }
        if let Some(BarcodeOutcome::Failed(code)) = barcode {
            return Err(code);
        }

        let aoid = ids::aoid();
        // Barcode orders have no `expire` parameter; they get XorPay's default lifetime.
        let expire_secs = request.expire.unwrap_or(DEFAULT_EXPIRE_SECS);
        let payer_openid = match request.kind {
            // The cashier obtains the payer's openid itself (docs/protocol.md §4.2).
            OrderKind::Cashier => Some(self.issue_openid()),
            OrderKind::Pay | OrderKind::Barcode => None,
        };
        let info = match (request.kind, request.pay_type.as_str()) {
            (OrderKind::Barcode, _) => Value::Null,
            (_, "native") => json!({ "qr": ids::native_qr() }),
            (_, "alipay") => json!({ "qr": ids::alipay_qr() }),
            _ => {
                // `prepay_id` maps back to the order, for the bridge stand-in.
                let prepay_id = format!("wx{aoid}");
                self.by_prepay_id.insert(prepay_id.clone(), aoid.clone());
                let app_id = request
                    .mini_appid
                    .clone()
                    .unwrap_or_else(|| merchant.wechat_app_id.clone());
                let time_stamp = unix_seconds(now).to_string();
                let nonce_str = ids::nonce();
                let package = format!("prepay_id={prepay_id}");
                let pay_sign = jsapi_pay_sign(
                    &app_id,
                    &time_stamp,
                    &nonce_str,
                    &package,
                    "MD5",
                    &merchant.secret.get(),
                );
                json!({
                    "appId": app_id,
                    "timeStamp": time_stamp,
                    "nonceStr": nonce_str,
                    "package": package,
                    "signType": "MD5",
                    "paySign": pay_sign,
                })
            }
        };
        let response = json!({
            "status": "ok",
            "aoid": aoid,
            "expires_in": expire_secs,
            "info": info,
        });
        self.next_seq += 1;
        let order = Order {
            seq: self.next_seq,
            aoid: aoid.clone(),
            request,
            expire_secs,
            created: now,
            state: OrderState::New,
            info,
            response,
            payer_openid,
            payment: None,
            refunds: Vec::new(),
            fault: None,
            delivery: DeliveryState::NotStarted,
            deliveries: Vec::new(),
        };
        self.by_order_id
            .entry(order.request.aid.clone())
            .or_default()
            .insert(order.request.order_id.clone(), aoid.clone());
        self.orders.insert(aoid.clone(), order);

        let start_delivery = match barcode {
            Some(BarcodeOutcome::Paid) => {
                let start = self
                    .pay(&aoid, config, now, Paying::OnTime)
                    .unwrap_or(false);
                let detail = self
                    .orders
                    .get(&aoid)
                    .and_then(|order| order.payment.as_ref())
                    .map(|payment| payment.view.detail.clone());
                self.set_response(
                    &aoid,
                    json!({ "status": "success", "aoid": aoid, "detail": detail }),
                );
                start
            }
            Some(BarcodeOutcome::Waiting) => {
                self.set_response(&aoid, json!({ "status": "new", "aoid": aoid }));
                false
            }
            Some(BarcodeOutcome::Failed(_)) | None => false,
        };
        let mut lose_answer = false;
        if let Some(order) = self.orders.get_mut(&aoid) {
            match config.magic(order.request.price_fen) {
                Some(MagicAmount::CreateAnswerLost) => lose_answer = true,
                Some(MagicAmount::ExpiresAtOnce) if order.state == OrderState::New => {
                    order.expire_secs = 0;
                    order.state = OrderState::Expire;
                }
                Some(MagicAmount::NotifiedTwice) => order.fault = Some(OrderFault::Duplicate),
                _ => {}
            }
        }
        let response = self
            .orders
            .get(&aoid)
            .map(|order| order.response.clone())
            .unwrap_or(Value::Null);
        Ok(Created {
            aoid,
            response,
            start_delivery,
            lose_answer,
        })
    }

    fn set_response(&mut self, aoid: &str, response: Value) {
        if let Some(order) = self.orders.get_mut(aoid) {
            order.response = response;
        }
    }

    /// The payer pays. Returns whether a notification must be delivered (not for a
    /// `fee_error` order, whose notification is held back).
    pub(crate) fn pay(
        &mut self,
        aoid: &str,
        config: &Config,
        now: SystemTime,
        paying: Paying,
    ) -> Result<bool, PayError> {
        let order = self.orders.get_mut(aoid).ok_or(PayError::NotFound)?;
        order.refresh(now);
        let payable = order.state == OrderState::New
            || (paying == Paying::Late && order.state == OrderState::Expire);
        if !payable {
            return Err(PayError::NotPayable(order.state));
        }
        let Some(merchant) = config.merchant(&order.request.aid) else {
            return Err(PayError::NotFound);
        };
        let fee = fee_fen(order.request.price_fen, config.fee_rate_bp);
        let paying = match config.magic(order.request.price_fen) {
            Some(MagicAmount::FeeErrorOnPayment) => Paying::FeeShort,
            _ => paying,
        };
        let account = self.accounts.entry(order.request.aid.clone()).or_default();
        let (state, fee) = match account.balance_fen.as_mut() {
            _ if paying == Paying::FeeShort => (OrderState::FeeError, 0),
            Some(balance) if *balance < fee => (OrderState::FeeError, 0),
            Some(balance) => {
                *balance -= fee;
                (OrderState::Payed, fee)
            }
            None => (OrderState::Payed, fee),
        };
        let pay_price = Price::from_fen(order.request.price_fen)
            .map(|price| price.to_wire().as_str().to_owned())
            .unwrap_or_default();
        let pay_time = china_time(now);
        let wechat = !order.request.pay_type.starts_with("alipay");
        let detail = if wechat {
            json!({
                "transaction_id": ids::wechat_transaction(),
                "bank_type": "CFT",
                "buyer": order
                    .request
                    .openid
                    .clone()
                    .or_else(|| order.payer_openid.clone())
                    .unwrap_or_else(ids::openid),
            })
        } else {
            json!({
                "transaction_id": ids::alipay_transaction(&china_date(now)),
                "bank_type": "ALIPAYACCOUNT",
                "buyer": "138******00",
            })
        }
        .to_string();
        let sign = sign::sign(
            &[aoid, &order.request.order_id, &pay_price, &pay_time],
            &merchant.secret.get(),
        );
        let fields = vec![
            ("aoid".to_owned(), aoid.to_owned()),
            ("order_id".to_owned(), order.request.order_id.clone()),
            ("pay_price".to_owned(), pay_price.clone()),
            ("pay_time".to_owned(), pay_time.clone()),
            (
                "more".to_owned(),
                order.request.more.clone().unwrap_or_default(),
            ),
            ("detail".to_owned(), detail.clone()),
            ("sign".to_owned(), sign),
        ];
        order.payment = Some(Payment {
            view: PaymentView {
                pay_price,
                pay_time,
                detail,
                fee_fen: fee,
            },
            fields,
        });
        order.state = state;
        order.delivery = if state == OrderState::Payed {
            DeliveryState::InProgress
        } else {
            DeliveryState::HeldBack
        };
        Ok(state == OrderState::Payed)
    }

    /// The paid orders whose delivery had not ended (when the books were saved).
    pub(crate) fn unfinished_deliveries(&self) -> Vec<String> {
        let mut aoids: Vec<(u64, String)> = self
            .orders
            .values()
            .filter(|order| order.delivery == DeliveryState::InProgress)
            .map(|order| (order.seq, order.aoid.clone()))
            .collect();
        aoids.sort();
        aoids.into_iter().map(|(_, aoid)| aoid).collect()
    }

    /// What to deliver for a paid order.
    pub(crate) fn delivery(&self, aoid: &str) -> Option<Delivery> {
        let order = self.orders.get(aoid)?;
        let payment = order.payment.as_ref()?;
        Some(Delivery {
            notify_url: order.request.notify_url.clone(),
            fields: payment.fields.clone(),
            fault: order.fault,
        })
    }

    pub(crate) fn record_attempt(&mut self, aoid: &str, attempt: DeliveryAttempt) {
        if let Some(order) = self.orders.get_mut(aoid) {
            order.deliveries.push(attempt);
        }
    }

    /// Delivery ended: acknowledged (the order becomes `success`) or given up (it stays
    /// `payed`, docs/protocol.md §7).
    pub(crate) fn finish_delivery(&mut self, aoid: &str, acknowledged: bool) {
        if let Some(order) = self.orders.get_mut(aoid) {
            if acknowledged {
                order.delivery = DeliveryState::Acknowledged;
                if order.state == OrderState::Payed {
                    order.state = OrderState::Success;
                }
            } else {
                order.delivery = DeliveryState::GaveUp;
            }
        }
    }

    /// A refund request, already parsed. Returns the status code.
    pub(crate) fn refund(
        &mut self,
        aoid: &str,
        price: Option<&str>,
        sign: Option<&str>,
        config: &Config,
        now: SystemTime,
    ) -> &'static str {
        // XorPay must find the order before it can know whose secret to check the signature
        // with, so an unknown aoid is refused first.
        let Some(order) = self.orders.get_mut(aoid) else {
            return "order_error";
        };
        order.refresh(now);
        let (Some(price), Some(received)) = (price, sign) else {
            return "missing_argument";
        };
        let Some(merchant) = config.merchant(&order.request.aid) else {
            return "order_error";
        };
        // refund: md5(price + secret) over the price as sent (docs/protocol.md §1.3), with the
        // secret of the merchant whose order it is.
        let expected = sign::sign(&[price], &merchant.secret.get());
        if !sign::matches(received, &expected, config.strict_lowercase_sign) {
            return "sign_error";
        }
        if order.state != OrderState::Success
            || config.magic(order.request.price_fen) == Some(MagicAmount::RefundRefused)
        {
            return "order_error";
        }
        let Ok(amount) = price.parse::<Price>() else {
            return "price_error";
        };
        if order.refunds.len() >= MAX_REFUNDS {
            return "order_error";
        }
        let refunded = order.refunded_fen();
        if refunded.saturating_add(amount.fen()) > order.request.price_fen {
            return "price_error";
        }
        order.refunds.push(RefundRecord {
            price: price.to_owned(),
            fen: amount.fen(),
            at: china_time(now),
        });
        "ok"
    }

    /// Expires an unpaid order now, as if its lifetime had run out (`xorpay trigger expired`).
    pub(crate) fn expire(&mut self, aoid: &str, now: SystemTime) -> Result<(), PayError> {
        let order = self.orders.get_mut(aoid).ok_or(PayError::NotFound)?;
        order.refresh(now);
        if order.state != OrderState::New {
            return Err(PayError::NotPayable(order.state));
        }
        // The lifetime it had, to the second, so that `expires_at` tells the truth.
        let lived = now.duration_since(order.created).unwrap_or_default();
        order.expire_secs = lived.as_secs();
        order.state = OrderState::Expire;
        Ok(())
    }

    /// Every notification request made so far, order by order (oldest order first), of the
    /// orders that match the filters.
    pub(crate) fn delivery_log(
        &self,
        aid: Option<&str>,
        order_id: Option<&str>,
    ) -> Vec<DeliveryRecord> {
        let mut orders: Vec<&Order> = self
            .orders
            .values()
            .filter(|order| aid.is_none_or(|aid| order.request.aid == aid))
            .filter(|order| order_id.is_none_or(|id| order.request.order_id == id))
            .collect();
        orders.sort_by_key(|order| order.seq);
        orders.into_iter().flat_map(Ledger::log_of).collect()
    }

    fn log_of(order: &Order) -> Vec<DeliveryRecord> {
        (1..)
            .zip(&order.deliveries)
            .map(|(place, request)| DeliveryRecord {
                id: format!("{}.{place}", order.aoid),
                aid: order.request.aid.clone(),
                aoid: order.aoid.clone(),
                order_id: order.request.order_id.clone(),
                request: request.clone(),
            })
            .collect()
    }

    /// The delivery log of one order.
    pub(crate) fn delivery_log_of(&self, aoid: &str) -> Vec<DeliveryRecord> {
        self.orders.get(aoid).map_or_else(Vec::new, Ledger::log_of)
    }

    /// What to send again for the delivery log entry `id` (`AOID.N`), its fields in XorPay's
    /// order, with its attempt number.
    pub(crate) fn replay(&self, id: &str) -> Option<(Delivery, u32)> {
        let (aoid, index) = id.rsplit_once('.')?;
        let index = index.parse::<usize>().ok()?.checked_sub(1)?;
        let order = self.orders.get(aoid)?;
        let request = order.deliveries.get(index)?;
        let mut fields: Vec<(String, String)> = NOTIFY_FIELDS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), request.fields.get(*name)?.clone())))
            .collect();
        fields.extend(
            request
                .fields
                .iter()
                .filter(|(name, _)| !NOTIFY_FIELDS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone())),
        );
        let delivery = Delivery {
            notify_url: order.request.notify_url.clone(),
            fields,
            fault: None,
        };
        Some((delivery, request.attempt))
    }

    /// The state of an order, by aoid.
    pub(crate) fn state(&mut self, aoid: &str, now: SystemTime) -> Option<OrderState> {
        let order = self.orders.get_mut(aoid)?;
        order.refresh(now);
        Some(order.state)
    }

    /// The aoid of merchant `aid`'s order `order_id`.
    pub(crate) fn aoid_of(&self, aid: &str, order_id: &str) -> Option<&str> {
        self.by_order_id.get(aid)?.get(order_id).map(String::as_str)
    }

    /// The aid of the merchant whose order this is.
    pub(crate) fn merchant_of(&self, aoid: &str) -> Option<&str> {
        self.orders
            .get(aoid)
            .map(|order| order.request.aid.as_str())
    }

    /// The aoid of a JSAPI order, by its `prepay_id`.
    pub(crate) fn aoid_of_prepay(&self, prepay_id: &str) -> Option<&str> {
        self.by_prepay_id.get(prepay_id).map(String::as_str)
    }

    pub(crate) fn set_fault(&mut self, aoid: &str, fault: Option<OrderFault>) -> bool {
        match self.orders.get_mut(aoid) {
            Some(order) => {
                order.fault = fault.map(OrderFault::normalised);
                true
            }
            None => false,
        }
    }

    /// A snapshot of one order.
    pub(crate) fn view(&mut self, aoid: &str, now: SystemTime) -> Option<OrderView> {
        let order = self.orders.get_mut(aoid)?;
        order.refresh(now);
        Some(order.view())
    }

    /// Snapshots of every order, oldest first.
    pub(crate) fn views(&mut self, now: SystemTime) -> Vec<OrderView> {
        let mut orders: Vec<&mut Order> = self.orders.values_mut().collect();
        orders.sort_by_key(|order| order.seq);
        orders
            .into_iter()
            .map(|order| {
                order.refresh(now);
                order.view()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fee_rule() {
        assert_eq!(fee_fen(1, 100), 1, "at least one fen");
        assert_eq!(fee_fen(100, 100), 1);
        assert_eq!(fee_fen(101, 100), 2, "rounded up");
        assert_eq!(fee_fen(12_345, 100), 124);
        assert_eq!(fee_fen(5_000, 60), 30);
        assert_eq!(fee_fen(5_000, 0), 0, "a zero rate takes nothing");
        assert_eq!(fee_fen(u64::MAX, 10_000), u64::MAX, "no overflow");
        assert_eq!(fee_fen(u64::MAX, u32::MAX), u64::MAX);
    }

    #[test]
    fn barcode_rule() {
        use BarcodeOutcome::{Failed, Paid, Waiting};
        let invalid = Failed("AUTH_CODE_INVALID");
        for (pay_type, code, outcome) in [
            ("wechat_barcode", "134657556554411111", Paid),
            ("wechat_barcode", "104657556554411111", Paid),
            ("wechat_barcode", "154657556554411111", Paid),
            ("wechat_barcode", "134657556554410000", Waiting),
            ("wechat_barcode", "164657556554411111", invalid),
            ("wechat_barcode", "094657556554411111", invalid),
            ("wechat_barcode", "13465755655441111", invalid),
            ("wechat_barcode", "1346575565544111111", invalid),
            ("wechat_barcode", "13465755655441111a", invalid),
            ("wechat_barcode", "", invalid),
            ("alipay_barcode", "286648834567890123", Paid),
            ("alipay_barcode", "2566488345678901", Paid),
            ("alipay_barcode", "306648834567890123456789", Paid),
            ("alipay_barcode", "286648834567890000", Waiting),
            ("alipay_barcode", "316648834567890123", invalid),
            ("alipay_barcode", "286648834567890", invalid),
            ("alipay_barcode", "3066488345678901234567890", invalid),
            ("native", "134657556554411111", invalid),
            ("wechat_barcode", "１３4657556554411111", invalid),
        ] {
            assert_eq!(
                BarcodeOutcome::of(pay_type, code),
                outcome,
                "{pay_type} {code}"
            );
        }
    }

    #[test]
    fn jsapi_pay_sign_is_wechats_uppercase_md5() {
        // Computed outside the project (Python's hashlib) from WeChat's rule: the five fields
        // sorted by name as a query string, `&key=` and the key, MD5, uppercase.
        let sign = jsapi_pay_sign(
            "wx2421b1c4370ec43b",
            "1395712654",
            "e61463f8efa94090b1f366cccfbbb444",
            "prepay_id=u802345jgfjsdfgsdg888",
            "MD5",
            "mock_secret",
        );
        assert_eq!(sign, "B6E9F71BB2755460C730F88857708485");
    }
}
