//! Expansion snapshots: the code the derive generates for representative structs, pretty
//! printed. A change in generated code shows up here as a diff to review; update with
//! `UPDATE_EXPECT=1 cargo test -p xorpay-derive`.

use expect_test::{Expect, expect};

fn check(input: syn::DeriveInput, expected: Expect) {
    let tokens = crate::expand::derive(&input);
    let file: syn::File = syn::parse2(tokens).expect("generated code parses as a file");
    expected.assert_eq(&prettyplease::unparse(&file));
}

#[test]
fn jsapi_order_declared_out_of_protocol_order() {
    check(
        syn::parse_quote! {
            #[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
            struct ShopOrder {
                #[xorpay(openid)]
                buyer: String,
                #[xorpay(order_id)]
                id: u64,
                #[xorpay(more)]
                note: Option<String>,
                #[xorpay(price)]
                total: Price,
                #[xorpay(name)]
                title: String,
                items: Vec<Item>,
            }
        },
        expect![[r#"
            const _: () = {
                use ::xorpay::__private as __xorpay;
                #[automatically_derived]
                impl __xorpay::XorPayOrder for ShopOrder {
                    type NotifyUrl = __xorpay::OwnNotifyUrl;
                    fn kind(&self) -> __xorpay::RequestKind {
                        __xorpay::RequestKind::Jsapi
                    }
                    fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                        &self,
                        __visitor: &mut __XorPayVisitor,
                    ) {
                        __xorpay::sign_str(__visitor, "name", "title", &self.title);
                        __xorpay::sign_pay_type(__visitor, __xorpay::RequestKind::Jsapi);
                        __xorpay::sign_price(
                            __visitor,
                            "total",
                            __xorpay::AsPrice::price(&self.total),
                        );
                        __xorpay::sign_display(__visitor, "order_id", "id", &self.id);
                        __xorpay::sign_notify_url(__visitor, "https://shop.example.com/n");
                        if let ::core::option::Option::Some(__value) = &self.note {
                            __xorpay::send(__visitor, "more", __value);
                        }
                        __xorpay::send(__visitor, "openid", &self.buyer);
                    }
                }
            };
        "#]],
    );
}

#[test]
fn barcode_order_with_client_notify_url() {
    check(
        syn::parse_quote! {
            #[xorpay(kind = wechat_barcode, notify_url = from_client, crate = my::xorpay)]
            struct Scan<'a> {
                #[xorpay(name)]
                name: &'a str,
                #[xorpay(price)]
                price: Price,
                #[xorpay(order_id)]
                order_id: &'a str,
                #[xorpay(barcode)]
                code: &'a str,
            }
        },
        expect![[r#"
            const _: () = {
                use my::xorpay::__private as __xorpay;
                #[automatically_derived]
                impl<'a> __xorpay::XorPayOrder for Scan<'a> {
                    type NotifyUrl = __xorpay::ClientNotifyUrl;
                    fn kind(&self) -> __xorpay::RequestKind {
                        __xorpay::RequestKind::WechatBarcode
                    }
                    fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                        &self,
                        __visitor: &mut __XorPayVisitor,
                    ) {
                        __xorpay::sign_str(__visitor, "name", "name", &self.name);
                        __xorpay::sign_pay_type(__visitor, __xorpay::RequestKind::WechatBarcode);
                        __xorpay::sign_price(
                            __visitor,
                            "price",
                            __xorpay::AsPrice::price(&self.price),
                        );
                        __xorpay::sign_str(__visitor, "order_id", "order_id", &self.order_id);
                        __xorpay::sign_client_notify_url(__visitor);
                        __xorpay::sign_str(__visitor, "barcode", "code", &self.code);
                    }
                }
            };
        "#]],
    );
}

#[test]
fn mini_program_order_with_generics_and_constant_appid() {
    check(
        syn::parse_quote! {
            #[xorpay(kind = mini_program, appid = "wx1234567890abcdef")]
            struct Mini<N: Display> where N: Clone {
                #[xorpay(order_id)]
                number: N,
                #[xorpay(name)]
                title: String,
                #[xorpay(price)]
                total: Price,
                #[xorpay(openid)]
                openid: String,
                #[xorpay(notify_url)]
                notify: String,
                #[xorpay(expire)]
                ttl: Option<u32>,
            }
        },
        expect![[r#"
            const _: () = {
                use ::xorpay::__private as __xorpay;
                #[automatically_derived]
                impl<N: Display> __xorpay::XorPayOrder for Mini<N>
                where
                    N: Clone,
                {
                    type NotifyUrl = __xorpay::OwnNotifyUrl;
                    fn kind(&self) -> __xorpay::RequestKind {
                        __xorpay::RequestKind::MiniProgram
                    }
                    fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                        &self,
                        __visitor: &mut __XorPayVisitor,
                    ) {
                        __xorpay::sign_str(__visitor, "name", "title", &self.title);
                        __xorpay::sign_pay_type(__visitor, __xorpay::RequestKind::MiniProgram);
                        __xorpay::sign_price(
                            __visitor,
                            "total",
                            __xorpay::AsPrice::price(&self.total),
                        );
                        __xorpay::sign_display(__visitor, "order_id", "number", &self.number);
                        __xorpay::sign_str(__visitor, "notify_url", "notify", &self.notify);
                        if let ::core::option::Option::Some(__value) = &self.ttl {
                            __xorpay::send_expire(
                                __visitor,
                                __xorpay::ExpireSeconds::seconds(__value),
                            );
                        }
                        __xorpay::send(__visitor, "openid", &self.openid);
                        __xorpay::send_constant(__visitor, "appid", "wx1234567890abcdef");
                        __xorpay::send_constant(__visitor, "is_mini", "true");
                    }
                }
            };
        "#]],
    );
}

#[test]
fn errors_come_with_a_stub_impl() {
    check(
        syn::parse_quote! {
            #[xorpay(kind = native)]
            struct Broken {
                #[xorpay(price)]
                total: f64,
            }
        },
        expect![[r##"
            ::core::compile_error! {
                "price cannot be `f64`: floats cannot hold money exactly; use `xorpay::Price`"
            }
            ::core::compile_error! {
                "missing notify_url: put `#[xorpay(notify_url)]` on the field that holds it, `#[xorpay(notify_url = \"https://…\")]` on the struct, or `#[xorpay(notify_url = from_client)]` to take it from the client's configuration"
            }
            ::core::compile_error! {
                "`kind = native` requires `name`, `order_id`: add `#[xorpay(name)]` on the field that holds the product name shown to the payer; `#[xorpay(order_id)]` on the field that holds your order number"
            }
            const _: () = {
                use ::xorpay::__private as __xorpay;
                #[automatically_derived]
                impl __xorpay::XorPayOrder for Broken {
                    type NotifyUrl = __xorpay::OwnNotifyUrl;
                    fn kind(&self) -> __xorpay::RequestKind {
                        __xorpay::RequestKind::Native
                    }
                    fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                        &self,
                        _: &mut __XorPayVisitor,
                    ) {
                        ::core::unreachable!("#[derive(XorPayOrder)] reported errors for this type")
                    }
                }
            };
        "##]],
    );
}

#[test]
fn enum_of_orders_dispatches_to_its_variants() {
    check(
        syn::parse_quote! {
            enum Purchase<'a> {
                Qr(QrOrder),
                WeChat(JsapiOrder<'a>),
            }
        },
        expect![[r#"
            const _: () = {
                use ::xorpay::__private as __xorpay;
                #[automatically_derived]
                impl<'a> __xorpay::XorPayOrder for Purchase<'a> {
                    type NotifyUrl = <QrOrder as __xorpay::XorPayOrder>::NotifyUrl;
                    fn kind(&self) -> __xorpay::RequestKind {
                        __xorpay::same_notify_url_source::<QrOrder, JsapiOrder<'a>>();
                        match self {
                            Self::Qr(__order) => __xorpay::XorPayOrder::kind(__order),
                            Self::WeChat(__order) => __xorpay::XorPayOrder::kind(__order),
                        }
                    }
                    fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                        &self,
                        __visitor: &mut __XorPayVisitor,
                    ) {
                        match self {
                            Self::Qr(__order) => {
                                __xorpay::XorPayOrder::__xorpay_visit(__order, __visitor)
                            }
                            Self::WeChat(__order) => {
                                __xorpay::XorPayOrder::__xorpay_visit(__order, __visitor)
                            }
                        }
                    }
                }
            };
        "#]],
    );
}
