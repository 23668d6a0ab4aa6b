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
    /// A `kind` was written but refused (already reported), so its absence is not news.
    pub(crate) kind_refused: bool,
    pub(crate) notify_url: Option<NotifyUrl>,
    /// `appid = "wx…"` for mini programs.
    pub(crate) appid: Option<LitStr>,
    /// `crate = path`.
    pub(crate) crate_path: Option<Path>,
}

/// A field's `#[xorpay(...)]`: the protocol field it holds, with the key's path for spans.
pub(crate) struct Field {
    pub(crate) key: Option<(Key, Path)>,
    /// The key a misspelt one most likely meant (already reported with a suggestion), so that
    /// "`name` is missing" is not reported on top.
    pub(crate) meant: Option<Key>,
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
        let mut kind_refused = false;

        for attr in xorpay_attrs(&input.attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path == KIND {
                    // #[xorpay(kind = jsapi)]
                    let value = meta.value()?;
                    if value.peek(LitStr) {
                        let text: LitStr = value.parse()?;
                        cx.error_spanned_by(
                            &text,
                            format!("write the kind without quotes: `kind = {}`", text.value()),
                        );
                        kind_refused = true;
                        return Ok(());
                    }
                    let word: Ident = value.parse()?;
                    match Kind::from_keyword(&word.to_string()) {
                        Some(found) => kind.set(&meta.path, (found, word)),
                        None => {
                            cx.error_spanned_by(
                                &word,
                                format!(
                                    "unknown request kind `{word}`; expected one of: {}",
                                    Kind::list()
                                ),
                            );
                            kind_refused = true;
                        }
                    }
                } else if meta.path == Key::NotifyUrl.symbol() {
                    // #[xorpay(notify_url = "https://…")] or #[xorpay(notify_url = from_client)]
                    if !meta.input.peek(Token![=]) {
                        cx.error_spanned_by(
                            &meta.path,
                            "on the struct, `notify_url` needs a value: \
                             `notify_url = \"https://…\"` or `notify_url = from_client`; \
                             to read it from a field, put `#[xorpay(notify_url)]` on that field",
                        );
                        return skip_value(&meta);
                    }
                    let value = meta.value()?;
                    if value.peek(LitStr) {
                        notify_url.set(&meta.path, NotifyUrl::Literal(value.parse()?));
                    } else {
                        let word: Ident = value.parse()?;
                        if word == FROM_CLIENT {
                            notify_url.set(&meta.path, NotifyUrl::FromClient(word));
                        } else {
                            cx.error_spanned_by(
                                &word,
                                format!(
                                    "`notify_url = {word}` is not understood: write a URL in \
                                     quotes or `from_client`"
                                ),
                            );
                        }
                    }
                } else if meta.path == Key::Appid.symbol() && meta.input.peek(Token![=]) {
                    // #[xorpay(appid = "wx…")]
                    appid.set(&meta.path, meta.value()?.parse()?);
                } else if meta.path == CRATE {
                    // #[xorpay(crate = path::to::xorpay)]
                    let value = meta.value()?;
                    if value.peek(LitStr) {
                        let text: LitStr = value.parse()?;
                        cx.error_spanned_by(
                            &text,
                            format!("write the path without quotes: `crate = {}`", text.value()),
                        );
                        return Ok(());
                    }
                    crate_path.set(&meta.path, value.parse()?);
                } else if let Some(key) = key_of(&meta.path) {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{}` is a field attribute: put `#[xorpay({})]` on the field that \
                             holds {}",
                            key.keyword(),
                            key.keyword(),
                            key.holds()
                        ),
                    );
                    return skip_value(&meta);
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
            kind_refused,
            notify_url: notify_url.value,
            appid: appid.value,
            crate_path: crate_path.value,
        }
    }
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, field: &syn::Field) -> Field {
        let mut key: Option<(Key, Path)> = None;
        let mut meant = None;

        for attr in xorpay_attrs(&field.attrs) {
            let parsed = attr.parse_nested_meta(|meta| {
                if let Some(found) = key_of(&meta.path) {
                    // #[xorpay(price)], #[xorpay(order_id)], … : a bare protocol field name
                    if meta.input.peek(Token![=]) {
                        cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "on a field, `{0}` takes no value: write `#[xorpay({0})]`",
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
                    skip_value(&meta)
                } else {
                    cx.error_spanned_by(&meta.path, unknown_key(&meta.path, false));
                    meant = closest_key(&path_text(&meta.path));
                    skip_value(&meta)
                }
            });
            if let Err(error) = parsed {
                cx.syn_error(error);
            }
        }

        Field { key, meant }
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

fn closest_key(word: &str) -> Option<Key> {
    closest(word).and_then(Key::from_keyword)
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
