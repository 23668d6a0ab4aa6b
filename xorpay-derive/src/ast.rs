//! The derive's model of its input: a struct with named fields, its `#[xorpay(...)]`
//! settings, and for each field the protocol field it holds (if any).
//!
//! Unions, tuple and unit structs are refused here with an error that says why; everything
//! else about the input is judged in `check.rs`. An enum never comes here: `variants.rs`
//! derives it.

use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::protocol::Key;

/// A struct that derives `XorPayOrder`.
pub(crate) struct Container<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: &'a attr::Container,
    pub(crate) fields: Vec<Field<'a>>,
    pub(crate) original: &'a DeriveInput,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: attr::Field,
}

impl<'a> Container<'a> {
    /// The model, or `None` when the input is not a struct with named fields (the error is
    /// recorded). The struct's attributes are parsed before, so that their mistakes are
    /// reported and the stub impl still uses `crate = …`.
    pub(crate) fn from_ast(
        cx: &Ctxt,
        input: &'a DeriveInput,
        attrs: &'a attr::Container,
    ) -> Option<Container<'a>> {
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "#[derive(XorPayOrder)] needs named fields, which `#[xorpay(...)]` \
                         can map to protocol fields; this is a tuple struct",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(XorPayOrder)] needs named fields holding at least the name, \
                         price and order_id; this is a unit struct",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "an enum of orders is derived by its variants' structs, not field by field",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "#[derive(XorPayOrder)] works on a struct with named fields, not a union",
                );
                return None;
            }
        };
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                Some(Field {
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    attrs: attr::Field::from_ast(cx, field),
                })
            })
            .collect();
        Some(Container {
            ident: &input.ident,
            attrs,
            fields,
            original: input,
        })
    }

    /// The fields mapped to `key`, in declaration order, each with the path of its
    /// `#[xorpay(key)]` to span errors on.
    pub(crate) fn fields_for(&self, key: Key) -> impl Iterator<Item = (&Field<'a>, &syn::Path)> {
        self.fields
            .iter()
            .filter_map(move |field| match &field.attrs.key {
                Some((found, path)) if *found == key => Some((field, path)),
                _ => None,
            })
    }
}

impl Field<'_> {
    pub(crate) fn key(&self) -> Option<Key> {
        self.attrs.key.as_ref().map(|(key, _)| *key)
    }

    /// The `T` of a field typed `Option<T>`, recognised by its last path segment.
    pub(crate) fn option_inner(&self) -> Option<&Type> {
        option_inner(self.ty)
    }
}

/// `Some(T)` for `Option<T>`, `std::option::Option<T>` and so on: recognised by the last
/// path segment's name, so a type of the user's own called `Option` is taken for it too.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    match arguments.args.first() {
        Some(syn::GenericArgument::Type(inner)) if arguments.args.len() == 1 => Some(inner),
        _ => None,
    }
}
