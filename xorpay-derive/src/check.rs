//! The rules a struct must follow to be a valid XorPay request, one function per rule. Each
//! records its errors in the [`Ctxt`], spanned on the offending tokens and saying the fix.

use syn::Type;

use crate::ast::Container;
use crate::attr::{self, NotifyUrl};
use crate::ctxt::Ctxt;
use crate::protocol::{Key, Kind, Presence};

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_kind_given(cx, container);
    check_mapped_once(cx, container);
    check_price_type(cx, container);
    check_required_not_optional(cx, container);
    check_notify_url_source(cx, container);
    check_notify_url_literal(cx, container);
    check_appid_source(cx, container);
    if let Some((kind, _)) = container.attrs.kind {
        check_forbidden(cx, container, kind);
        check_required_present(cx, container, kind);
    }
}

/// The struct names its request kind: `#[xorpay(kind = …)]`.
fn check_kind_given(cx: &Ctxt, container: &Container<'_>) {
    let misplaced = container
        .fields
        .iter()
        .any(|field| field.attrs.refused.contains(&"kind"));
    if container.attrs.kind.is_none() && !container.attrs.refused("kind") && !misplaced {
        cx.error_spanned_by(
            container.ident,
            format!(
                "missing `#[xorpay(kind = …)]` on the struct; choose one of: {}",
                Kind::list()
            ),
        );
    }
}

/// Each protocol field is held by at most one struct field.
fn check_mapped_once(cx: &Ctxt, container: &Container<'_>) {
    for key in Key::ALL {
        let mut fields = container.fields_for(key);
        let Some((first, _)) = fields.next() else {
            continue;
        };
        for (_, path) in fields {
            cx.error_spanned_by(
                path,
                format!(
                    "`{}` is already mapped to field `{}`; a protocol field comes from one field",
                    key.keyword(),
                    first.ident
                ),
            );
        }
    }
}

/// The price is never a float: floats cannot hold money exactly. Other wrong types are caught
/// by the `AsPrice` bound in generated code.
fn check_price_type(cx: &Ctxt, container: &Container<'_>) {
    for (field, _) in container.fields_for(Key::Price) {
        let ty = field.option_inner().unwrap_or(field.ty);
        if let Some(float) = float_name(ty) {
            cx.error_spanned_by(
                ty,
                format!(
                    "price cannot be `{float}`: floats cannot hold money exactly; use \
                     `xorpay::Price`"
                ),
            );
        }
    }
}

/// A protocol field every kind requires cannot be an `Option`.
fn check_required_not_optional(cx: &Ctxt, container: &Container<'_>) {
    let Some((kind, _)) = container.attrs.kind else {
        return;
    };
    for field in &container.fields {
        let Some(key) = field.key() else { continue };
        if kind.presence(key) == Presence::Required && field.option_inner().is_some() {
            cx.error_spanned_by(
                field.ty,
                format!(
                    "`{}` is required for `kind = {}`, so it cannot be an `Option`; use the \
                     value's own type",
                    key.keyword(),
                    kind.keyword()
                ),
            );
        }
    }
}

/// `notify_url` comes from exactly one place: a field, or the struct attribute.
fn check_notify_url_source(cx: &Ctxt, container: &Container<'_>) {
    let field = container.fields_for(Key::NotifyUrl).next();
    match (&container.attrs.notify_url, field) {
        (Some(_), Some((field, path))) => cx.error_spanned_by(
            path,
            format!(
                "notify_url is given twice: by the struct attribute and by field `{}`; keep one",
                field.ident
            ),
        ),
        (None, None) if !container.attrs.refused("notify_url") => cx.error_at(
            attr::kind_span(container.attrs, container.ident),
            "missing notify_url: put `#[xorpay(notify_url)]` on the field that holds it, \
             `#[xorpay(notify_url = \"https://…\")]` on the struct, or \
             `#[xorpay(notify_url = from_client)]` to take it from the client's configuration",
        ),
        _ => {}
    }
}

/// A constant `notify_url` is an absolute http(s) URL, which XorPay can post to.
fn check_notify_url_literal(cx: &Ctxt, container: &Container<'_>) {
    if let Some(NotifyUrl::Literal(literal)) = &container.attrs.notify_url {
        let url = literal.value();
        let has_host = ["http://", "https://"].iter().any(|scheme| {
            url.strip_prefix(scheme)
                .is_some_and(|rest| !rest.is_empty())
        });
        if !has_host || url.chars().any(char::is_whitespace) {
            cx.error_spanned_by(
                literal,
                "notify_url must be an absolute http:// or https:// URL that XorPay can reach",
            );
        }
    }
}

/// A mini program's `appid` comes from one place: a field, or the struct attribute.
fn check_appid_source(cx: &Ctxt, container: &Container<'_>) {
    if let (Some(_), Some((field, path))) = (
        &container.attrs.appid,
        container.fields_for(Key::Appid).next(),
    ) {
        cx.error_spanned_by(
            path,
            format!(
                "appid is given twice: by the struct attribute and by field `{}`; keep one",
                field.ident
            ),
        );
    }
}

/// A kind's forbidden protocol fields are not mapped (an openid on a native order, a barcode
/// on a jsapi order, an expire on a barcode payment, …).
fn check_forbidden(cx: &Ctxt, container: &Container<'_>, kind: Kind) {
    for field in &container.fields {
        let Some((key, path)) = &field.attrs.key else {
            continue;
        };
        if let Presence::Forbidden(reason) = kind.presence(*key) {
            cx.error_spanned_by(
                path,
                format!(
                    "`{}` is not sent with `kind = {}`: {reason}",
                    key.keyword(),
                    kind.keyword()
                ),
            );
        }
    }
    if let Some(appid) = &container.attrs.appid
        && let Presence::Forbidden(reason) = kind.presence(Key::Appid)
    {
        cx.error_spanned_by(
            appid,
            format!(
                "`appid` is not sent with `kind = {}`: {reason}",
                kind.keyword()
            ),
        );
    }
}

/// Every protocol field the kind requires is mapped, reported as one error listing them all.
/// `notify_url` has its own rule above; keys written but refused elsewhere are not repeated.
fn check_required_present(cx: &Ctxt, container: &Container<'_>, kind: Kind) {
    let missing: Vec<Key> = Key::ALL
        .into_iter()
        .filter(|&key| key != Key::NotifyUrl && kind.presence(key) == Presence::Required)
        .filter(|&key| container.fields_for(key).next().is_none())
        .filter(|&key| !(key == Key::Appid && container.attrs.appid.is_some()))
        .filter(|&key| {
            let word = key.keyword();
            !container.attrs.refused(word)
                && !container
                    .fields
                    .iter()
                    .any(|field| field.attrs.refused.contains(&word))
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let names: Vec<String> = missing
        .iter()
        .map(|key| format!("`{}`", key.keyword()))
        .collect();
    let advice: Vec<String> = missing
        .iter()
        .map(|key| {
            format!(
                "`#[xorpay({})]` on the field that holds {}",
                key.keyword(),
                key.holds()
            )
        })
        .collect();
    cx.error_at(
        attr::kind_span(container.attrs, container.ident),
        format!(
            "`kind = {}` requires {}: add {}",
            kind.keyword(),
            names.join(", "),
            advice.join("; ")
        ),
    );
}

/// `f32` or `f64`, also behind references and spelt as a path (`core::primitive::f64`).
fn float_name(ty: &Type) -> Option<&'static str> {
    match ty {
        Type::Reference(reference) => float_name(&reference.elem),
        Type::Path(path) if path.qself.is_none() => {
            let ident = &path.path.segments.last()?.ident;
            if ident == "f32" {
                Some("f32")
            } else if ident == "f64" {
                Some("f64")
            } else {
                None
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::float_name;

    #[test]
    fn floats_are_recognised_behind_references() {
        assert_eq!(float_name(&syn::parse_quote!(f64)), Some("f64"));
        assert_eq!(float_name(&syn::parse_quote!(&'a f32)), Some("f32"));
        assert_eq!(
            float_name(&syn::parse_quote!(core::primitive::f64)),
            Some("f64")
        );
        assert_eq!(float_name(&syn::parse_quote!(Price)), None);
    }
}
