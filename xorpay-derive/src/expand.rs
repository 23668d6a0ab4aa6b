//! Code generation: the `XorPayOrder` impl for a checked struct (an enum of orders is
//! `variants.rs`'s).
//!
//! The generated `__xorpay_visit` is a short list of calls into the runtime's `__private`
//! module, one per protocol value: the signed values in signature order (name, pay_type,
//! price, order_id, notify_url, and for barcodes the barcode), then the unsigned ones.
//! Everything else (hashing, encoding, checking values) lives in `xorpay-core`, in generic
//! code shared by every order.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::{Container, Field};
use crate::attr::{self, NotifyUrl};
use crate::check;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::protocol::{Key, Kind};
use crate::variants;

/// Everything the derive emits for `input`: the impl, or every error plus a stub impl.
pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    if let syn::Data::Enum(data) = &input.data {
        return variants::derive(input, data);
    }
    let cx = Ctxt::new();
    let attrs = attr::Container::from_ast(&cx, input);
    let container = Container::from_ast(&cx, input, &attrs);
    if let Some(container) = &container {
        check::check(&cx, container);
    }
    match (cx.check(), container) {
        (Ok(()), Some(container)) => expand(&container),
        (result, _) => {
            let mut tokens = result
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
            tokens.extend(fallback::expand(input, &attrs));
            tokens
        }
    }
}

/// The name of the visitor's type parameter, chosen so that it cannot clash with a type
/// parameter of the struct itself.
fn visitor_param(generics: &syn::Generics) -> syn::Ident {
    let mut name = String::from("__XorPayVisitor");
    while generics.type_params().any(|param| param.ident == name) {
        name.push('_');
    }
    syn::Ident::new(&name, Span::call_site())
}

fn expand(container: &Container<'_>) -> TokenStream {
    let Some((kind, _)) = &container.attrs.kind else {
        // `check` refuses a struct without a kind; keep the stub in case that ever changes.
        return fallback::expand(container.original, container.attrs);
    };
    let kind = *kind;
    let krate = attr::crate_path(container.attrs);
    let ident = container.ident;
    let generics = &container.original.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let variant = format_ident!("{}", kind.variant());
    let notify_source = notify_source(container.attrs);
    let visitor = visitor_param(generics);
    let visits = visits(container, kind);

    quote! {
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                type NotifyUrl = __xorpay::#notify_source;

                fn kind(&self) -> __xorpay::RequestKind {
                    __xorpay::RequestKind::#variant
                }

                fn __xorpay_visit<#visitor: __xorpay::Visit>(&self, __visitor: &mut #visitor) {
                    #(#visits)*
                }
            }
        };
    }
}

/// `OwnNotifyUrl` or `ClientNotifyUrl`, as the struct attribute says.
pub(crate) fn notify_source(attrs: &attr::Container) -> syn::Ident {
    match attrs.notify_url {
        Some(NotifyUrl::FromClient(_)) => format_ident!("ClientNotifyUrl"),
        _ => format_ident!("OwnNotifyUrl"),
    }
}

/// One statement per protocol value, signed values first in signature order.
fn visits(container: &Container<'_>, kind: Kind) -> Vec<TokenStream> {
    let variant = format_ident!("{}", kind.variant());
    let mut visits = Vec::new();
    for key in Key::ALL {
        if key == Key::Price {
            // pay_type is signed between name and price, and comes from the kind.
            visits.push(quote! {
                __xorpay::sign_pay_type(__visitor, __xorpay::RequestKind::#variant);
            });
        }
        if let Some((field, _)) = container.fields_for(key).next() {
            visits.push(visit_field(field, key));
            continue;
        }
        match (key, &container.attrs.notify_url, &container.attrs.appid) {
            (Key::NotifyUrl, Some(NotifyUrl::Literal(url)), _) => visits.push(quote! {
                __xorpay::sign_notify_url(__visitor, #url);
            }),
            (Key::NotifyUrl, Some(NotifyUrl::FromClient(word)), _) => {
                visits.push(
                    quote_spanned!(word.span()=> __xorpay::sign_client_notify_url(__visitor);),
                );
            }
            (Key::Appid, _, Some(appid)) => visits.push(quote! {
                __xorpay::send_constant(__visitor, "appid", #appid);
            }),
            _ => {}
        }
    }
    if kind == Kind::MiniProgram {
        // docs/protocol.md §3.5a: a mini-program payment is a jsapi order with `appid`, `openid`
        // and `is_mini=true`. The doc shows the three in the query string, one peer SDK sends
        // them in the body; XorPay seems to accept parameters in either (§1.2), so they go in
        // the body with the rest.
        visits.push(quote!(__xorpay::send_constant(__visitor, "is_mini", "true");));
    }
    visits
}

/// The statement for one mapped field. The value expression carries the field type's span,
/// so that a type error (not text, not a `Price`) points at the field.
fn visit_field(field: &Field<'_>, key: Key) -> TokenStream {
    let member = field.ident;
    let keyword = key.keyword();
    let name = member.unraw().to_string();
    let optional = field.option_inner();
    let ty = optional.unwrap_or(field.ty);
    let span = ty.span();
    let value = match optional {
        Some(_) => quote_spanned!(span=> __value),
        None => quote_spanned!(span=> &self.#member),
    };
    let call = match key {
        Key::Price => quote_spanned! {span=>
            __xorpay::sign_price(__visitor, #name, __xorpay::AsPrice::price(#value));
        },
        Key::Expire => quote_spanned! {span=>
            __xorpay::send_expire(__visitor, __xorpay::ExpireSeconds::seconds(#value));
        },
        // Text known to hold a `str` skips `fmt`; anything else is formatted with `Display`.
        _ if key.is_signed() && holds_str(ty) => quote_spanned! {span=>
            __xorpay::sign_str(__visitor, #keyword, #name, #value);
        },
        _ if key.is_signed() => quote_spanned! {span=>
            __xorpay::sign_display(__visitor, #keyword, #name, #value);
        },
        _ => quote_spanned! {span=>
            __xorpay::send(__visitor, #keyword, #value);
        },
    };
    match optional {
        Some(_) => quote! {
            if let ::core::option::Option::Some(__value) = &self.#member {
                #call
            }
        },
        None => call,
    }
}

/// Whether `ty` is written as a type that holds a `str`: `String`, `str`, `Cow<str>`,
/// `Box<str>`, `Rc<str>`, `Arc<str>`, or a reference to one. Recognised by name only; any
/// other type (an alias included) takes the `Display` path, which is just as correct.
fn holds_str(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(reference) => holds_str(&reference.elem),
        syn::Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            match &last.arguments {
                syn::PathArguments::None => name == "String" || name == "str",
                syn::PathArguments::AngleBracketed(arguments) => {
                    matches!(name.as_str(), "Cow" | "Box" | "Rc" | "Arc")
                        && arguments.args.iter().any(|argument| {
                            matches!(argument, syn::GenericArgument::Type(inner) if is_str(inner))
                        })
                }
                syn::PathArguments::Parenthesized(_) => false,
            }
        }
        _ => false,
    }
}

fn is_str(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.qself.is_none() && path.path.is_ident("str"))
}
