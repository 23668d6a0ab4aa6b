//! The derive on an enum: one order type for a shop that offers several kinds of payment.
//!
//! Each variant holds exactly one value of an order struct that derives `XorPayOrder` itself,
//! so every kind keeps its own compile-time checks (a `jsapi` struct without an `openid` does
//! not compile, wherever it is used). The enum's impl only dispatches: its kind, its signed
//! values and its `notify_url` are those of the struct its current variant holds. All
//! variants must take their `notify_url` from the same place (the generated code checks
//! this), because signing on its own ([`Signable`]) is decided by the type, not the value.
//!
//! [`Signable`]: https://docs.rs/xorpay/latest/xorpay/request/trait.Signable.html

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DataEnum, Fields};

use crate::attr::{self, NotifyUrl};
use crate::ctxt::Ctxt;

/// The impl for an enum of orders, or its errors and a stub impl.
pub(crate) fn derive(input: &syn::DeriveInput, data: &DataEnum) -> TokenStream {
    let cx = Ctxt::new();
    let attrs = attr::Container::from_ast(&cx, input);
    refuse_struct_settings(&cx, &attrs);
    let mut variants = Vec::new();
    for variant in &data.variants {
        if let Some(attr) = variant
            .attrs
            .iter()
            .find(|attr| attr.path().is_ident("xorpay"))
        {
            cx.error_spanned_by(
                attr,
                "an enum's variants take no `#[xorpay(...)]`: put the settings on the struct \
                 the variant holds",
            );
        }
        match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                variants.push((&variant.ident, &fields.unnamed[0].ty));
            }
            _ => cx.error_spanned_by(
                variant,
                format!(
                    "each variant of an enum of orders holds one order struct that derives \
                     XorPayOrder: write `{}(SomeOrder)`",
                    variant.ident
                ),
            ),
        }
    }
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "an enum of orders needs at least one variant, each holding an order struct that \
             derives XorPayOrder",
        );
    }
    let krate = attr::crate_path(&attrs);
    match cx.check() {
        Ok(()) => expand(input, &krate, &variants),
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(stub(input, &krate));
            tokens
        }
    }
}

/// `kind`, `notify_url` and `appid` belong to the structs the variants hold.
fn refuse_struct_settings(cx: &Ctxt, attrs: &attr::Container) {
    let message = |key: &str| {
        format!(
            "`{key}` is set on each order struct an enum's variant holds, not on the enum: \
             remove it here"
        )
    };
    if let Some((_, word)) = &attrs.kind {
        cx.error_spanned_by(word, message("kind"));
    }
    match &attrs.notify_url {
        Some(NotifyUrl::Literal(url)) => cx.error_spanned_by(url, message("notify_url")),
        Some(NotifyUrl::FromClient(word)) => cx.error_spanned_by(word, message("notify_url")),
        None => {}
    }
    if let Some(appid) = &attrs.appid {
        cx.error_spanned_by(appid, message("appid"));
    }
}

fn expand(
    input: &syn::DeriveInput,
    krate: &TokenStream,
    variants: &[(&syn::Ident, &syn::Type)],
) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let Some((_, first)) = variants.first() else {
        return stub(input, krate);
    };
    let names: Vec<_> = variants.iter().map(|(name, _)| name).collect();
    // Every later variant's struct must take its notify_url from where the first's does; a
    // mismatch is a type error on that variant's type.
    let same_source = variants.iter().skip(1).map(|(_, ty)| {
        let span = syn::spanned::Spanned::span(ty);
        quote::quote_spanned! {span=>
            __xorpay::same_notify_url_source::<#first, #ty>();
        }
    });
    quote! {
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                type NotifyUrl = <#first as __xorpay::XorPayOrder>::NotifyUrl;

                fn kind(&self) -> __xorpay::RequestKind {
                    #(#same_source)*
                    match self {
                        #(Self::#names(__order) => __xorpay::XorPayOrder::kind(__order),)*
                    }
                }

                fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                    &self,
                    __visitor: &mut __XorPayVisitor,
                ) {
                    match self {
                        #(Self::#names(__order) => {
                            __xorpay::XorPayOrder::__xorpay_visit(__order, __visitor)
                        })*
                    }
                }
            }
        };
    }
}

/// The impl emitted next to errors, so that uses of the enum elsewhere do not add a cascade of
/// "trait not implemented" errors.
fn stub(input: &syn::DeriveInput, krate: &TokenStream) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                type NotifyUrl = __xorpay::OwnNotifyUrl;

                fn kind(&self) -> __xorpay::RequestKind {
                    ::core::unreachable!("#[derive(XorPayOrder)] reported errors for this type")
                }

                fn __xorpay_visit<__XorPayVisitor: __xorpay::Visit>(
                    &self,
                    _: &mut __XorPayVisitor,
                ) {
                    ::core::unreachable!("#[derive(XorPayOrder)] reported errors for this type")
                }
            }
        };
    }
}
