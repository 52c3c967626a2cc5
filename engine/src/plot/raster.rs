//! Charts rendered to pixels with `resvg`, text in the DejaVu Sans font shipped by the
//! `dejavu` crate (no system fonts), to check in tests that a chart shows something: how
//! many pixels are not background, how many of them are text, and what the text says.
//! Built for the crate's tests and with the `raster` feature.

use resvg::{tiny_skia, usvg};
use std::sync::Arc;

/// What a rendered chart shows.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Width and height, pixels.
    pub size: (u32, u32),
    /// Pixels that are not white.
    pub ink: usize,
    /// Pixels that differ between the chart rendered with its text and without: the text.
    pub text_ink: usize,
    /// Every text of the chart (titles, axis names, tick labels, legend, marks), in
    /// document order.
    pub texts: Vec<String>,
}

/// The pixels of `svg`, rendered with DejaVu Sans as every font when `text`, with no fonts
/// (so no text) otherwise.
fn pixels(svg: &str, text: bool) -> Result<(tiny_skia::Pixmap, usvg::Tree), String> {
    let mut opt = usvg::Options::default();
    let mut db = usvg::fontdb::Database::new();
    if text {
        db.load_font_data(dejavu::sans::regular().to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        opt.font_family = "DejaVu Sans".into();
    }
    opt.fontdb = Arc::new(db);
    let tree = usvg::Tree::from_str(svg, &opt).map_err(|e| format!("not an SVG: {e}"))?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("an empty chart ({} x {})", size.width(), size.height()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    Ok((pixmap, tree))
}

fn texts(node: &usvg::Group, out: &mut Vec<String>) {
    for child in node.children() {
        match child {
            usvg::Node::Group(g) => texts(g, out),
            usvg::Node::Text(t) => out.push(t.chunks().iter().map(|c| c.text()).collect()),
            _ => {}
        }
    }
}

/// Renders `svg` and measures what it shows.
pub fn render(svg: &str) -> Result<Rendered, String> {
    let (with, tree) = pixels(svg, true)?;
    let (without, _) = pixels(svg, false)?;
    let white =
        |p: &tiny_skia::PremultipliedColorU8| p.red() == 255 && p.green() == 255 && p.blue() == 255;
    let ink = with.pixels().iter().filter(|p| !white(p)).count();
    let text_ink = with
        .pixels()
        .iter()
        .zip(without.pixels())
        .filter(|(a, b)| a != b)
        .count();
    let mut found = Vec::new();
    texts(tree.root(), &mut found);
    Ok(Rendered {
        size: (with.width(), with.height()),
        ink,
        text_ink,
        texts: found,
    })
}

/// Renders `svg` and checks that it shows a chart rather than a blank picture: at least
/// 1 % of its pixels drawn and at least 1,000 pixels of text (tick labels, names).
pub fn check(svg: &str) -> Result<Rendered, String> {
    let r = render(svg)?;
    let all = r.size.0 as usize * r.size.1 as usize;
    if r.ink * 100 < all {
        return Err(format!("blank: {} of {all} pixels drawn", r.ink));
    }
    if r.text_ink < 1000 {
        return Err(format!(
            "no readable text: {} text pixels ({:?})",
            r.text_ink, r.texts
        ));
    }
    Ok(r)
}
