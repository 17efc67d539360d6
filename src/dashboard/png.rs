//! PNG pictures for people who paste charts into slides and documents: the same standalone SVG
//! the `.svg` download gives, rasterised by resvg at twice its size on a white background.
//! Text is set in Titillium Web (the site's typeface, Bootstrap Italia's TTF files under the SIL
//! Open Font License, `fonts/OFL.txt`) compiled into the binary, so the picture is the same on any
//! server and no system font is looked up.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

/// Pixels per SVG unit: the charts are 800 units wide, the PNG 1,600 pixels (sharp on slides).
pub const SCALE: f32 = 2.0;

/// The fonts, loaded once per process.
fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(include_bytes!("fonts/TitilliumWeb-Regular.ttf").to_vec());
            db.load_font_data(include_bytes!("fonts/TitilliumWeb-Bold.ttf").to_vec());
            // plotters and the map ask for "sans-serif"; anything else falls back to it too.
            db.set_sans_serif_family("Titillium Web");
            db.set_serif_family("Titillium Web");
            db.set_monospace_family("Titillium Web");
            Arc::new(db)
        })
        .clone()
}

/// The PNG of a standalone SVG document, or why it could not be drawn (for the log).
pub fn render(svg: &str) -> Result<Vec<u8>, String> {
    let options =
        usvg::Options { fontdb: fonts(), font_family: "Titillium Web".into(), ..Default::default() };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| format!("SVG not readable: {e}"))?;
    let size = tree.size().to_int_size().scale_by(SCALE).ok_or("picture too large")?;
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or("empty picture")?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::from_scale(SCALE, SCALE), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(|e| format!("PNG encoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pixels that are neither white nor transparent.
    fn inked(png: &[u8]) -> (u32, u32, usize) {
        let pixmap = tiny_skia::Pixmap::decode_png(png).unwrap();
        let ink =
            pixmap.pixels().iter().filter(|p| (p.red(), p.green(), p.blue()) != (255, 255, 255)).count();
        (pixmap.width(), pixmap.height(), ink)
    }

    #[test]
    fn text_is_drawn_with_the_embedded_font() {
        let blank = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"></svg>"#;
        let text = r#"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="50"><text x="10" y="30" font-family="sans-serif" font-size="20">Aderenti 133</text></svg>"#;
        let (w, h, ink) = inked(&render(blank).unwrap());
        assert_eq!((w, h, ink), (400, 100, 0), "twice the size, white");
        let (_, _, ink) = inked(&render(text).unwrap());
        assert!(ink > 200, "the text left {ink} dark pixels: no font?");
    }

    #[test]
    fn a_broken_svg_is_an_error_not_a_panic() {
        assert!(render("<svg").is_err());
    }
}
