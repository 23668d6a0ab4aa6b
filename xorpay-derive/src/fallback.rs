//! The stub impl emitted next to errors, so that the rest of the user's crate still sees a
//! `XorPayOrder` impl and the compiler reports the derive's errors, not a cascade of
//! "trait not implemented" errors wherever the struct is used (as `thiserror` does). It
//! follows every struct setting that was understood (`crate`, `kind`, `notify_url`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::attr;
use crate::expand;
use crate::protocol::Kind;

pub(crate) fn expand(input: &syn::DeriveInput, attrs: &attr::Container) -> TokenStream {
    let krate = attr::crate_path(attrs);
    let kind = attrs.kind.as_ref().map_or(Kind::Native, |(kind, _)| *kind);
    let variant = format_ident!("{}", kind.variant());
    let notify_source = expand::notify_source(attrs);
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                type NotifyUrl = __xorpay::#notify_source;

                fn kind(&self) -> __xorpay::RequestKind {
                    __xorpay::RequestKind::#variant
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
