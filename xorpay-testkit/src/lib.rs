//! What every test tree of xorpay-rs shares (the `xorpay` package's tests and benches, and
//! the tests of `xorpay-core` and `xorpay-sandbox`).
//!
//! - [`md5_hex`]: the MD5 oracle. It hashes the documented formula's values with `md-5`
//!   directly, never through `xorpay::sign`, so that a test of the signer compares it with
//!   something it did not compute itself.
//! - [`notification`]: a payment notification's form body, signed by the oracle, as XorPay
//!   posts it.
//! - [`vectors`]: the signature vectors computed outside the project, with their one loader.
//! - [`Receiver`]: a merchant's notify endpoint on loopback that records every request and
//!   answers as the test plans.
//! - [`TempDir`] and [`Captured`]: a directory removed on drop, a log writer to read back.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use md5::{Digest, Md5};

pub mod receiver;
pub mod vectors;

pub use receiver::{Hit, Plan, Receiver};

/// MD5 of the values concatenated in order, as 32 lowercase hex digits: XorPay's signature
/// when `parts` are a formula's values with the app secret last.
pub fn md5_hex(parts: &[&str]) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A payment notification's values, as XorPay posts them.
#[derive(Debug, Clone, Copy)]
pub struct Notification<'a> {
    /// XorPay's order id.
    pub aoid: &'a str,
    /// The merchant's order number.
    pub order_id: &'a str,
    /// The amount paid, as XorPay writes it (`"12.50"`).
    pub pay_price: &'a str,
    /// When it was paid, as XorPay writes it.
    pub pay_time: &'a str,
    /// The merchant's `more`, echoed (unsigned).
    pub more: &'a str,
    /// The channel's details, JSON (unsigned).
    pub detail: &'a str,
}

impl<'a> Notification<'a> {
    /// A notification with an ordinary `pay_time`, empty `more` and `{}` as `detail`.
    pub fn new(aoid: &'a str, order_id: &'a str, pay_price: &'a str) -> Notification<'a> {
        Notification {
            aoid,
            order_id,
            pay_price,
            pay_time: "2026-11-27 21:03:59",
            more: "",
            detail: "{}",
        }
    }

    /// The same with this `pay_time`.
    pub fn at(self, pay_time: &'a str) -> Notification<'a> {
        Notification { pay_time, ..self }
    }

    /// Its `sign` under `secret`: MD5 of `aoid + order_id + pay_price + pay_time + secret`
    /// (the notify formula of XorPay's documentation).
    pub fn sign(&self, secret: &str) -> String {
        md5_hex(&[
            self.aoid,
            self.order_id,
            self.pay_price,
            self.pay_time,
            secret,
        ])
    }

    /// The form body XorPay posts, signed with `secret`.
    pub fn body(&self, secret: &str) -> String {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("aoid", self.aoid)
            .append_pair("order_id", self.order_id)
            .append_pair("pay_price", self.pay_price)
            .append_pair("pay_time", self.pay_time)
            .append_pair("more", self.more)
            .append_pair("detail", self.detail)
            .append_pair("sign", &self.sign(secret))
            .finish()
    }
}

/// A notification body for `order_id`, paid `pay_price`, signed with `secret`.
pub fn notification(aoid: &str, order_id: &str, pay_price: &str, secret: &str) -> String {
    Notification::new(aoid, order_id, pay_price).body(secret)
}

/// A temporary directory, removed with its contents on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name starts with `xorpay-{name}-`.
    pub fn new(name: &str) -> TempDir {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "xorpay-{name}-{}-{nanos}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A log writer whose output a test reads back: give clones of it to a `tracing` subscriber
/// (`.with_writer(move || captured.clone())`).
#[derive(Clone, Default, Debug)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The oracle agrees with the vectors computed outside the project.
    #[test]
    fn the_oracle_reproduces_every_notify_vector() {
        let vectors = vectors::load();
        assert!(!vectors.notify.is_empty());
        for vector in &vectors.notify {
            let notification = Notification::new(&vector.aoid, &vector.order_id, &vector.pay_price)
                .at(&vector.pay_time);
            assert_eq!(notification.sign(&vector.secret), vector.sign);
        }
        for vector in &vectors.pay {
            let parts = [
                vector.name.as_str(),
                &vector.pay_type,
                &vector.price,
                &vector.order_id,
                &vector.notify_url,
                &vector.secret,
            ];
            assert_eq!(md5_hex(&parts), vector.sign);
        }
    }
}
