//! What the command line's tests share.

#![allow(dead_code, unreachable_pub)]

/// The `xorpay` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_xorpay");

/// The tests' app secret, in XorPay's form; it must never be printed.
pub const SECRET: &str = "5ec7e75ec7e75ec7e75ec7e75ec7e7ab";

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
