//! What the demo shop sells: three products, each with a name in Chinese and English, a
//! price, and a small picture drawn in SVG (so that it shows without any font or file).

/// One product.
pub(crate) struct Product {
    /// The key in URLs.
    pub(crate) id: &'static str,
    /// The name shown and signed.
    pub(crate) name: &'static str,
    /// A line about it.
    pub(crate) blurb: &'static str,
    /// The price in fen.
    pub(crate) fen: u64,
    /// Its picture, an inline SVG.
    pub(crate) picture: &'static str,
}

/// The catalogue.
pub(crate) const CATALOG: [Product; 3] = [
    Product {
        id: "latte",
        name: "拿铁咖啡 Latte",
        blurb: "现磨浓缩配热牛奶 Espresso with steamed milk",
        fen: 1800,
        picture: r##"<svg viewBox="0 0 64 64" role="img" aria-label="拿铁 Latte"><path d="M22 6c0 5 5 5 5 10M32 6c0 5 5 5 5 10" stroke="#b9b9b9" stroke-width="3" fill="none" stroke-linecap="round"/><rect x="12" y="20" width="34" height="32" rx="8" fill="#c8a27a"/><path d="M46 27h5a7 7 0 0 1 0 14h-5" fill="none" stroke="#c8a27a" stroke-width="5"/><ellipse cx="29" cy="24" rx="13" ry="3" fill="#f3e6d6"/><rect x="8" y="54" width="44" height="4" rx="2" fill="#8d6e52"/></svg>"##,
    },
    Product {
        id: "tea",
        name: "乌龙茶 Oolong tea",
        blurb: "福建高山乌龙 Mountain oolong from Fujian",
        fen: 1250,
        picture: r##"<svg viewBox="0 0 64 64" role="img" aria-label="乌龙茶 Oolong tea"><path d="M14 22h36l-4 26a6 6 0 0 1-6 5H24a6 6 0 0 1-6-5z" fill="#7fb77e"/><path d="M32 8c10 2 14 10 10 16-8 0-13-6-10-16z" fill="#3f8f4e"/><path d="M32 8c-2 6 0 11 6 15" stroke="#2d6b39" stroke-width="1.5" fill="none"/><rect x="10" y="54" width="44" height="4" rx="2" fill="#55805a"/></svg>"##,
    },
    Product {
        id: "cookie",
        name: "杏仁饼干 Almond cookie",
        blurb: "一分钱尝一块 A taste for one fen",
        fen: 1,
        picture: r##"<svg viewBox="0 0 64 64" role="img" aria-label="杏仁饼干 Almond cookie"><circle cx="32" cy="34" r="22" fill="#e0b36b"/><circle cx="32" cy="34" r="22" fill="none" stroke="#c48f3f" stroke-width="3"/><ellipse cx="24" cy="28" rx="4" ry="2.5" fill="#f6e3c0" transform="rotate(-30 24 28)"/><ellipse cx="39" cy="30" rx="4" ry="2.5" fill="#f6e3c0" transform="rotate(20 39 30)"/><ellipse cx="31" cy="43" rx="4" ry="2.5" fill="#f6e3c0" transform="rotate(-10 31 43)"/></svg>"##,
    },
];

/// The product with this key.
pub(crate) fn product(id: &str) -> Option<&'static Product> {
    CATALOG.iter().find(|product| product.id == id)
}
