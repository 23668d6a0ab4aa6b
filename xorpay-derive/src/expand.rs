//! Code generation: the `XorPayOrder` impl for a checked struct.
//!
//! The generated `__xorpay_visit` is a short list of calls into the runtime's `__private`
//! module: the signed values in signature order (name, pay_type, price, order_id, notify_url,
//! and for barcodes the barcode), then the unsigned ones. Everything else (hashing, encoding,
//! checking for empty values) lives in `xorpay-core`, in generic code shared by every order.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Container, Field};
use crate::attr::{self, NotifyUrl};
use crate::check;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::protocol::{Key, Kind};

/// Everything the derive emits for `input`: the impl, or every error plus a stub impl.
pub(crate) fn derive(input: &syn::DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let container = Container::from_ast(&cx, input);
    if let Some(container) = &container {
        check::check(&cx, container);
    }
    match (cx.check(), container) {
        (Ok(()), Some(container)) => expand(&container),
        (result, container) => {
            let mut tokens = result
                .err()
                .map(syn::Error::into_compile_error)
                .unwrap_or_default();
            tokens.extend(fallback::expand(input, container.as_ref()));
            tokens
        }
    }
}

fn expand(container: &Container<'_>) -> TokenStream {
    let Some((kind, _)) = container.attrs.kind else {
        // `check` refuses a struct without a kind; keep the stub in case that ever changes.
        return fallback::expand(container.original, Some(container));
    };
    let krate = attr::crate_path(&container.attrs);
    let ident = container.ident;
    let (impl_generics, ty_generics, where_clause) = container.original.generics.split_for_impl();
    let variant = format_ident!("{}", kind.variant());
    let notify_source = match container.attrs.notify_url {
        Some(NotifyUrl::FromClient(_)) => quote!(ClientNotifyUrl),
        _ => quote!(OwnNotifyUrl),
    };
    let visits = visits(container, kind);

    quote! {
        #[doc(hidden)]
        const _: () = {
            use #krate::__private as __xorpay;

            #[automatically_derived]
            impl #impl_generics __xorpay::XorPayOrder for #ident #ty_generics #where_clause {
                const KIND: __xorpay::RequestKind = __xorpay::RequestKind::#variant;
                type NotifyUrl = __xorpay::#notify_source;

                fn __xorpay_visit<__V: __xorpay::Visit>(&self, __visitor: &mut __V) {
                    #(#visits)*
                }
            }
        };
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
                __visitor.signed_str(
                    "pay_type",
                    __xorpay::ValueSource::Kind,
                    __xorpay::RequestKind::#variant.pay_type(),
                );
            });
        }
        if let Some((field, _)) = container.fields_for(key).next() {
            visits.push(visit_field(field, key));
            continue;
        }
        match key {
            Key::NotifyUrl => match &container.attrs.notify_url {
                Some(NotifyUrl::Literal(url)) => visits.push(quote! {
                    __visitor.signed_str("notify_url", __xorpay::ValueSource::Attribute, #url);
                }),
                Some(NotifyUrl::FromClient(word)) => {
                    visits.push(quote_spanned!(word.span()=> __visitor.client_notify_url();));
                }
                None => {}
            },
            Key::Appid => {
                if let Some(appid) = &container.attrs.appid {
                    visits.push(quote!(__visitor.unsigned("appid", #appid);));
                }
            }
            _ => {}
        }
    }
    if kind == Kind::MiniProgram {
        // PROTOCOL.md §3.5a: a mini-program payment is a jsapi order marked `is_mini=true`.
        visits.push(quote!(__visitor.unsigned("is_mini", "true");));
    }
    visits
}

/// The statement for one mapped field. The value expression carries the field type's span,
/// so that a type error (not `Display`, not a `Price`) points at the field.
fn visit_field(field: &Field<'_>, key: Key) -> TokenStream {
    let member = field.ident;
    let keyword = key.keyword();
    let name = member.to_string();
    let optional = field.option_inner();
    let span = optional.unwrap_or(field.ty).span();
    let value = match optional {
        Some(_) => quote_spanned!(span=> __value),
        None => quote_spanned!(span=> &self.#member),
    };
    let value = converted(key, span, value);
    let call = if key == Key::Price {
        quote_spanned! {span=>
            __xorpay::signed_price(__visitor, __xorpay::ValueSource::Field(#name), #value);
        }
    } else if key.is_signed() {
        // Text known to be a `str` skips `fmt`; anything else is formatted with `Display`.
        let function = if holds_str(optional.unwrap_or(field.ty)) {
            quote_spanned!(span=> signed_str)
        } else {
            quote_spanned!(span=> signed_text)
        };
        quote_spanned! {span=>
            __xorpay::#function(__visitor, #keyword, __xorpay::ValueSource::Field(#name), #value);
        }
    } else {
        quote_spanned!(span=> __xorpay::unsigned_text(__visitor, #keyword, #value);)
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

/// The value as the visitor takes it: the lifetime in seconds, or the field itself.
fn converted(key: Key, span: Span, value: TokenStream) -> TokenStream {
    match key {
        Key::Expire => quote_spanned!(span=> &__xorpay::expire(#value)),
        _ => value,
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
