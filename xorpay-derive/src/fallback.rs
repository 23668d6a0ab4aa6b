//! The stub impl emitted next to errors, so that the rest of the user's crate still sees a
//! `XorPayOrder` impl and the compiler reports the derive's errors, not a cascade of
//! "trait not implemented" errors wherever the struct is used (as `thiserror` does).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ast::Container;
use crate::attr;

pub(crate) fn expand(input: &syn::DeriveInput, container: Option<&Container<'_>>) -> TokenStream {
    let krate = container.map_or_else(|| quote!(::xorpay), |c| attr::crate_path(&c.attrs));
    let variant = container.and_then(|c| c.attrs.kind.as_ref()).map_or_else(
        || format_ident!("Native"),
        |(kind, _)| format_ident!("{}", kind.variant()),
    );
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[doc(hidden)]
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                const KIND: __xorpay::RequestKind = __xorpay::RequestKind::#variant;
                type NotifyUrl = __xorpay::OwnNotifyUrl;

                fn __xorpay_visit<__V: __xorpay::Visit>(&self, _: &mut __V) {
                    ::core::unreachable!("#[derive(XorPayOrder)] reported errors for this type")
                }
            }
        };
    }
}
