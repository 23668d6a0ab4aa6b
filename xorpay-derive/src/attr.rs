//! Parsing of `#[xorpay(...)]` on the struct and on its fields.
//!
//! Every key has one arm below with its syntax in a comment. Mistakes are recorded in the
//! [`Ctxt`] and parsing goes on, so that an unknown key, a duplicate, a key on the wrong item
//! and a bad value are all reported in one build. Cross-field rules are not checked here but
//! in `check.rs`.

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::Ctxt;
use crate::protocol::{Key, Kind};
use crate::symbol::{CRATE, FROM_CLIENT, KIND, Symbol, XORPAY};

/// Where a struct-level `notify_url` comes from.
pub(crate) enum NotifyUrl {
    /// `notify_url = "https://…"`.
    Literal(LitStr),
    /// `notify_url = from_client`.
    FromClient(Ident),
}

/// The struct's `#[xorpay(...)]` settings.
pub(crate) struct Container {
    /// `kind = jsapi`, with the keyword's identifier for spans.
    pub(crate) kind: Option<(Kind, Ident)>,
    pub(crate) notify_url: Option<NotifyUrl>,
    /// `appid = "wx…"` for mini programs.
    pub(crate) appid: Option<LitStr>,
    /// `crate = path`.
    pub(crate) crate_path: Option<Path>,
    /// Keys that were written but refused with an error already: their absence is not
    /// reported again.
    pub(crate) refused: Vec<&'static str>,
}

/// A field's `#[xorpay(...)]`: the protocol field it holds, with the key's path for spans.
pub(crate) struct Field {
    pub(crate) key: Option<(Key, Path)>,
    /// Keys written here but refused with an error already (a misspelt `nme` counts as the
    /// `name` it most likely meant; a misplaced `kind` counts as `kind`): their absence is
    /// not reported again.
    pub(crate) refused: Vec<&'static str>,
}

/// A setting that may be given at most once: a second one is an error on its tokens.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: &'static str,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: &'static str) -> Attr<'c, T> {
        Attr {
            cx,
            name,
            value: None,
        }
    }

    fn set<A: ToTokens>(&mut self, tokens: A, value: T) {
        if self.value.is_some() {
            let name = self.name;
            self.cx
                .error_spanned_by(tokens, format!("duplicate xorpay attribute `{name}`"));
        } else {
            self.value = Some(value);
        }
    }
}

const STRUCT_KEYS: &str = "kind, notify_url, appid, crate";

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, input: &syn::DeriveInput) -> Container {
        let mut kind = Attr::none(cx, "kind");
        let mut notify_url = Attr::none(cx, "notify_url");
        let mut appid = Attr::none(cx, "appid");
        let mut crate_path = Attr::none(cx, "crate");
        let mut refused = Vec::new();

        for attr in xorpay_attrs(&input.attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                // A mistake inside a value is reported and the key counted as refused, so
                // that it is not also reported as missing; parsing goes on after it.
                let mut refuse = |name: &'static str, error: syn::Error| {
                    cx.syn_error(error);
                    refused.push(name);
                    skip_value(&meta)
                };
                if meta.path == KIND {
                    // #[xorpay(kind = jsapi)]
                    match parse_kind(&meta) {
                        Ok((found, word)) => kind.set(&meta.path, (found, word)),
                        Err(error) => return refuse("kind", error),
                    }
                } else if meta.path == Key::NotifyUrl.symbol() {
                    // #[xorpay(notify_url = "https://…")] or #[xorpay(notify_url = from_client)]
                    match parse_notify_url(&meta) {
                        Ok(found) => notify_url.set(&meta.path, found),
                        Err(error) => return refuse("notify_url", error),
                    }
                } else if meta.path == Key::Appid.symbol() {
                    // #[xorpay(appid = "wx…")]
                    match parse_appid(&meta) {
                        Ok(found) => appid.set(&meta.path, found),
                        Err(error) => return refuse("appid", error),
                    }
                } else if meta.path == CRATE {
                    // #[xorpay(crate = path::to::xorpay)]
                    match parse_crate(&meta) {
                        Ok(found) => crate_path.set(&meta.path, found),
                        Err(error) => return refuse("crate", error),
                    }
                } else if let Some(key) = key_of(&meta.path) {
                    let error = meta.error(format!(
                        "`{0}` is a field attribute: put `#[xorpay({0})]` on the field that \
                         holds {1}",
                        key.keyword(),
                        key.holds()
                    ));
                    return refuse(key.keyword(), error);
                } else {
                    cx.error_spanned_by(&meta.path, unknown_key(&meta.path, true));
                    return skip_value(&meta);
                }
                Ok(())
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }

        Container {
            kind: kind.value,
            notify_url: notify_url.value,
            appid: appid.value,
            crate_path: crate_path.value,
            refused,
        }
    }

    /// Whether `name` was written on the struct but refused.
    pub(crate) fn refused(&self, name: &str) -> bool {
        self.refused.contains(&name)
    }
}

/// `kind = jsapi`.
fn parse_kind(meta: &ParseNestedMeta<'_>) -> syn::Result<(Kind, Ident)> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!(
            "`kind` needs a value: `kind = jsapi`; one of: {}",
            Kind::list()
        )));
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        let text: LitStr = value.parse()?;
        return Err(syn::Error::new_spanned(
            &text,
            format!("write the kind without quotes: `kind = {}`", text.value()),
        ));
    }
    let word: Ident = value.parse().map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("expected a request kind, one of: {}", Kind::list()),
        )
    })?;
    match Kind::from_keyword(&word.to_string()) {
        Some(found) => Ok((found, word)),
        None => Err(syn::Error::new_spanned(
            &word,
            format!(
                "unknown request kind `{word}`; expected one of: {}",
                Kind::list()
            ),
        )),
    }
}

/// `notify_url = "https://…"` or `notify_url = from_client`.
fn parse_notify_url(meta: &ParseNestedMeta<'_>) -> syn::Result<NotifyUrl> {
    let expected = "on the struct, `notify_url` needs a value: `notify_url = \"https://…\"` \
                    or `notify_url = from_client`; to read it from a field, put \
                    `#[xorpay(notify_url)]` on that field";
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(expected));
    }
    let value = meta.value()?;
    if value.peek(LitStr) {
        return Ok(NotifyUrl::Literal(value.parse()?));
    }
    match value.parse::<Ident>() {
        Ok(word) if word == FROM_CLIENT => Ok(NotifyUrl::FromClient(word)),
        Ok(word) => Err(syn::Error::new_spanned(
            &word,
            format!(
                "`notify_url = {word}` is not understood: write a URL in quotes or `from_client`"
            ),
        )),
        Err(error) => Err(syn::Error::new(error.span(), expected)),
    }
}

/// `appid = "wx…"`.
fn parse_appid(meta: &ParseNestedMeta<'_>) -> syn::Result<LitStr> {
    let expected = "on the struct, `appid` needs the mini program's appid in quotes: \
                    `appid = \"wx…\"`; to read it from a field, put `#[xorpay(appid)]` on \
                    that field";
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(expected));
    }
    let literal: LitStr = meta
        .value()?
        .parse()
        .map_err(|error| syn::Error::new(error.span(), expected))?;
    if literal.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(&literal, "the appid is empty"));
    }
    Ok(literal)
}

/// `crate = path::to::xorpay`.
fn parse_crate(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        let text: LitStr = value.parse()?;
        return Err(syn::Error::new_spanned(
            &text,
            format!("write the path without quotes: `crate = {}`", text.value()),
        ));
    }
    value.parse()
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, field: &syn::Field) -> Field {
        let mut key: Option<(Key, Path)> = None;
        let mut refused = Vec::new();

        for attr in xorpay_attrs(&field.attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                if let Some(found) = key_of(&meta.path) {
                    // #[xorpay(price)], #[xorpay(order_id)], … : a bare protocol field name
                    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                        cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "on a field, `{0}` takes no value or arguments: write \
                                 `#[xorpay({0})]`",
                                found.keyword()
                            ),
                        );
                        // The intent is clear: map the field anyway, so that no
                        // "`order_id` is missing" follows.
                        skip_value(&meta)?;
                    }
                    match &key {
                        None => key = Some((found, meta.path.clone())),
                        Some((existing, _)) if *existing == found => cx.error_spanned_by(
                            &meta.path,
                            format!("duplicate xorpay attribute `{}`", found.keyword()),
                        ),
                        Some((existing, _)) => cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "a field holds one protocol field; this one is already mapped \
                                 to `{}`",
                                existing.keyword()
                            ),
                        ),
                    }
                    Ok(())
                } else if meta.path == KIND || meta.path == CRATE {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{0}` belongs on the struct, not on a field: move it to the \
                             struct's `#[xorpay({0} = …)]`",
                            path_text(&meta.path)
                        ),
                    );
                    refused.push(if meta.path == KIND { KIND.0 } else { CRATE.0 });
                    skip_value(&meta)
                } else {
                    cx.error_spanned_by(&meta.path, unknown_key(&meta.path, false));
                    if let Some(meant) = closest(&path_text(&meta.path)) {
                        refused.push(meant);
                    }
                    skip_value(&meta)
                }
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }

        Field { key, refused }
    }
}

/// The `#[xorpay(...)]` attributes among `attrs`. An empty `#[xorpay()]` is allowed.
fn xorpay_attrs(attrs: &[syn::Attribute]) -> impl Iterator<Item = &syn::Attribute> {
    attrs.iter().filter(|attr| *attr.path() == XORPAY)
}

fn key_of(path: &Path) -> Option<Key> {
    path.get_ident()
        .and_then(|ident| Key::from_keyword(&ident.to_string()))
}

impl Key {
    fn symbol(self) -> Symbol {
        Symbol(self.keyword())
    }
}

/// Consumes `= value` or `(...)` after a key that was refused, so parsing can go on.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    let input = meta.input;
    while !input.is_empty() && !input.peek(Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

fn path_text(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

/// The known keyword within two edits of `word`, if any.
fn closest(word: &str) -> Option<&'static str> {
    Key::ALL
        .iter()
        .map(|key| key.keyword())
        .chain([KIND.0, CRATE.0])
        .filter(|candidate| edit_distance(word, candidate) <= 2)
        .min_by_key(|candidate| edit_distance(word, candidate))
}

/// "unknown xorpay attribute `nme`; did you mean `name`? …"
fn unknown_key(path: &Path, on_struct: bool) -> String {
    let word = path_text(path);
    let suggestion = closest(&word)
        .map(|candidate| format!("; did you mean `{candidate}`?"))
        .unwrap_or_default();
    let valid = if on_struct {
        format!("struct keys are: {STRUCT_KEYS}")
    } else {
        format!("field keys are: {}", Key::list())
    };
    format!("unknown xorpay attribute `{word}`{suggestion} ({valid})")
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous_diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let replace = previous_diagonal + usize::from(ca != *cb);
            previous_diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// The span of the struct-level `kind`, or of `fallback` when there is none.
pub(crate) fn kind_span(container: &Container, fallback: &Ident) -> Span {
    container
        .kind
        .as_ref()
        .map_or_else(|| fallback.span(), |(_, word)| word.span())
}

/// Tokens to use as the runtime path: `crate = …` or `::xorpay`.
pub(crate) fn crate_path(container: &Container) -> TokenStream {
    match &container.crate_path {
        Some(path) => path.to_token_stream(),
        None => quote::quote!(::xorpay),
    }
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("name", "name"), 0);
        assert_eq!(edit_distance("nme", "name"), 1);
        assert_eq!(edit_distance("prcie", "price"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
