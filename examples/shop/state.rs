//! The shop's state, shared by every request: its configuration, the lifecycle service, the
//! deliveries, and the admin's CSRF token.

// The tests include this file as a module and use only part of it.
#![allow(dead_code)]

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use xorpay::prelude::*;

use super::deliveries::Deliveries;
use super::html::error_page;
use super::order::ShopOrder;

/// Where the pay page gets `WeixinJSBridge` from.
#[derive(Clone, Debug)]
pub(crate) enum Bridge {
    /// The sandbox's stand-in script (only when the shop talks to the sandbox).
    SandboxStandIn {
        /// The sandbox's base URL.
        sandbox_url: String,
    },
    /// WeChat's own, injected by its in-app browser.
    WeChat,
}

/// Everything the shop needs.
pub(crate) struct ShopConfig {
    /// The lifecycle service: XorPay, the order store, the shop's notify URL, the
    /// deliveries as its fulfilment hook.
    pub(crate) payments: Payments<ShopOrder>,
    /// The shop's public base URL, for the openid callback.
    pub(crate) public_url: String,
    /// Where `WeixinJSBridge` comes from.
    pub(crate) bridge: Bridge,
    /// `None`: the admin pages are open (the demo, on loopback). `Some(token)`: they answer
    /// only requests carrying `?token=…` (the shop talking to XorPay for real).
    pub(crate) admin_token: Option<String>,
    /// Test hook, debug builds only: abort the process after the service recorded a new
    /// payment and before answering XorPay.
    pub(crate) crash_after_confirm: bool,
    /// How long payers have to pay, in seconds (`None`: XorPay's default, two hours).
    pub(crate) order_lifetime: Option<u32>,
    /// What `/metrics` renders.
    pub(crate) metrics: metrics_exporter_prometheus::PrometheusHandle,
}

/// The shop, shared by every request.
#[derive(Clone)]
pub(crate) struct Shop {
    inner: Arc<Inner>,
}

struct Inner {
    config: ShopConfig,
    deliveries: Deliveries,
    /// Put in every admin form and checked on submission: another site cannot make the
    /// admin's browser post a refund.
    pub(crate) csrf: String,
}

impl Shop {
    /// The shop, recording its deliveries in `deliveries` (the same database as its orders).
    pub(crate) fn new(config: ShopConfig, deliveries: Deliveries) -> Shop {
        Shop {
            inner: Arc::new(Inner {
                config,
                deliveries,
                csrf: uuid::Uuid::new_v4().simple().to_string(),
            }),
        }
    }

    pub(crate) fn config(&self) -> &ShopConfig {
        &self.inner.config
    }

    /// The lifecycle service.
    pub(crate) fn payments(&self) -> &Payments<ShopOrder> {
        &self.inner.config.payments
    }

    /// The admin forms' CSRF token.
    pub(crate) fn csrf(&self) -> &str {
        &self.inner.csrf
    }

    /// Delivers every paid order not delivered yet (the service also does, in the
    /// background).
    pub(crate) async fn deliver_outstanding(&self) {
        if let Err(error) = self.payments().run_hooks().await {
            eprintln!("delivery sweep failed: {error}");
        }
    }

    /// How many deliveries are recorded for an order (0 or 1).
    pub(crate) async fn deliveries_of(&self, order_id: &str) -> usize {
        usize::from(self.delivery_runs(order_id).await > 0)
    }

    /// How often the fulfilment hook ran for an order.
    pub(crate) async fn delivery_runs(&self, order_id: &str) -> usize {
        self.inner.deliveries.runs(order_id).await
    }

    /// Whether an admin request may proceed.
    pub(crate) fn admin_allowed(&self, query: Option<&str>) -> bool {
        match &self.config().admin_token {
            None => true,
            Some(token) => query
                .and_then(|query| {
                    query
                        .split('&')
                        .find_map(|pair| pair.strip_prefix("token="))
                })
                .is_some_and(|given| given == token),
        }
    }
}

/// The stored order `id`, or the page that says why there is none.
pub(crate) async fn load(shop: &Shop, id: &str) -> Result<StoredOrder<ShopOrder>, Response> {
    match shop.payments().order(id).await {
        Ok(Some(order)) => Ok(order),
        Ok(None) => Err(error_page(
            StatusCode::NOT_FOUND,
            "没有这个订单 No such order",
        )),
        Err(error) => Err(error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            &error.to_string(),
        )),
    }
}
