#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! [`faults`] holds the fault types and documents each fault exactly; [`orders`] holds the
//! snapshots the sandbox hands out. Everything else is private: the routes, the books (order
//! states, order-id rules, fee, refunds), notification delivery, the pages and the QR renderer.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod admin;
mod clock;
mod config;
mod delivery;
pub mod faults;
mod ids;
mod inject;
mod ledger;
mod magic;
pub mod orders;
mod pages;
mod params;
mod persist;
mod qr;
mod routes;
mod server;
mod sign;
mod state;

pub use config::SandboxConfig;
pub use faults::{FaultTimes, OrderFault, Route, RouteFault, RouteFaultRule};
pub use magic::MagicAmount;
pub use orders::{
    DeliveryAttempt, DeliveryRecord, DeliveryState, NotificationKind, OrderKind, OrderState,
    OrderView, PayError, PaymentView, RefundRecord, UnknownOrder,
};
pub use server::Sandbox;
