//! The QR renderer behind `GET /qr?data=…` (docs/protocol.md §4.7): a PNG of a QR code of `data`.
//!
//! The `qrcode` crate computes the modules (without its `image` feature, which would pull in a
//! whole imaging library); this module only scales them up and writes an 8-bit greyscale PNG
//! with the 4-module quiet zone the QR standard asks for. It does not guess what `data` means.

use qrcode::{Color, EcLevel, QrCode};

/// Pixels per module.
const SCALE: usize = 8;
/// The quiet zone around the code, in modules.
const QUIET_ZONE: usize = 4;

/// Why no image could be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QrError {
    /// `data` does not fit in a QR code (about 2.3 KB at error correction level M).
    #[error("data cannot be encoded as a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    /// The PNG encoder failed.
    #[error("png encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// A PNG image of a QR code of `data`, error correction level M.
pub(crate) fn png(data: &[u8]) -> Result<Vec<u8>, QrError> {
    let code = QrCode::with_error_correction_level(data, EcLevel::M)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * SCALE;
    let mut pixels = vec![u8::MAX; side * side];
    for (index, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (row, column) = (index / modules, index % modules);
        for y in 0..SCALE {
            let start = ((row + QUIET_ZONE) * SCALE + y) * side + (column + QUIET_ZONE) * SCALE;
            pixels[start..start + SCALE].fill(0);
        }
    }
    let side = u32::try_from(side).unwrap_or(u32::MAX);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_png_with_a_quiet_zone() {
        let png = png(b"weixin://wxpay/bizpayurl?pr=KGdA4v4").unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }

    #[test]
    fn too_much_data_is_an_error() {
        assert!(matches!(png(&[b'x'; 8000]), Err(QrError::Encode(_))));
    }
}
