#![doc = include_str!("../README.md")]

pub use xorpay_core::*;
