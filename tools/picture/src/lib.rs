//! `picture`: the SVG pictures of the layer's tools (`dtregion map`, `bootlog bench-svg`),
//! written by hand.
//!
//! - [`Svg`] writes a document element by element; every text and attribute value goes
//!   through [`escape`], so a node name or a message cannot break the markup.
//! - [`texts`] reads a document back (with `roxmltree`, a strict XML parser) and returns the
//!   text of each `<text>` element: what a test or `dtregion map --verify` checks a picture
//!   for.
//! - [`text_width`] estimates how wide a line of the pictures' font is, for layout.
//!
//! Nothing here draws a chart: each tool lays out its own picture.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt::Write;

/// The font every picture uses: a monospace face, so [`text_width`] is exact enough.
pub const FONT: &str = "DejaVu Sans Mono, Liberation Mono, monospace";

/// `text` with the five XML special characters replaced by entities; control characters
/// other than tab, newline and carriage return (which XML 1.0 does not allow) become `?`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// The width of `text` in pixels at `size` px in [`FONT`] (0.6 em per character).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.6
}

/// `text` cut into lines of at most `width` characters, at spaces where it can be.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
        }
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A number as an attribute value: at most two decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// How a text is anchored at its x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// x is where the text starts.
    Start,
    /// x is its middle.
    Middle,
    /// x is where it ends.
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Presentation attributes of a shape: `("fill", "#fff")`, `("stroke-dasharray", "4 2")`.
pub type Style<'a> = &'a [(&'a str, &'a str)];

/// An SVG document being written.
#[derive(Clone, Debug)]
pub struct Svg {
    body: String,
    width: f64,
    height: f64,
    title: String,
    depth: usize,
}

impl Svg {
    /// An empty picture titled `title` (the document's `<title>`, which viewers show).
    pub fn new(title: &str) -> Svg {
        Svg {
            body: String::new(),
            width: 0.0,
            height: 0.0,
            title: title.to_string(),
            depth: 0,
        }
    }

    /// A picture titled `title`, with the title drawn at its top left in
    /// bold and `subtitle` in grey below it: the heading every picture of
    /// the tools has.
    pub fn headed(title: &str, subtitle: &str) -> Svg {
        let mut svg = Svg::new(title);
        svg.text(
            12.0,
            24.0,
            16.0,
            Anchor::Start,
            title,
            &[("font-weight", "bold")],
        );
        svg.text(
            12.0,
            42.0,
            10.0,
            Anchor::Start,
            subtitle,
            &[("fill", "#555555")],
        );
        svg
    }

    fn attrs(style: Style<'_>) -> String {
        style
            .iter()
            .map(|(k, v)| format!(" {k}=\"{}\"", escape(v)))
            .collect()
    }

    fn grow(&mut self, x: f64, y: f64) {
        self.width = self.width.max(x);
        self.height = self.height.max(y);
    }

    /// A rectangle.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, style: Style<'_>) {
        let _ = writeln!(
            self.body,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}/>",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            Svg::attrs(style)
        );
        self.grow(x + w, y + h);
    }

    /// A line.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, style: Style<'_>) {
        let _ = writeln!(
            self.body,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"{}/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            Svg::attrs(style)
        );
        self.grow(x1.max(x2), y1.max(y2));
    }

    /// An open polyline through `points`.
    pub fn polyline(&mut self, points: &[(f64, f64)], style: Style<'_>) {
        let p: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{},{}", num(x), num(y)))
            .collect();
        let _ = writeln!(
            self.body,
            "<polyline points=\"{}\" fill=\"none\"{}/>",
            p.join(" "),
            Svg::attrs(style)
        );
        for &(x, y) in points {
            self.grow(x, y);
        }
    }

    /// One line of text of `size` px, its baseline at `y`.
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        size: f64,
        anchor: Anchor,
        text: &str,
        style: Style<'_>,
    ) {
        let _ = writeln!(
            self.body,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\"{}>{}</text>",
            num(x),
            num(y),
            num(size),
            anchor.as_str(),
            Svg::attrs(style),
            escape(text)
        );
        let w = text_width(text, size);
        let right = match anchor {
            Anchor::Start => x + w,
            Anchor::Middle => x + w / 2.0,
            Anchor::End => x,
        };
        self.grow(right, y + size * 0.3);
    }

    /// Opens a group; `title` becomes its tooltip (`<title>`).
    pub fn group(&mut self, title: Option<&str>) {
        self.body.push_str("<g>\n");
        if let Some(t) = title {
            let _ = writeln!(self.body, "<title>{}</title>", escape(t));
        }
        self.depth += 1;
    }

    /// Closes the group [`Svg::group`] opened last.
    pub fn end_group(&mut self) {
        assert!(self.depth > 0, "end_group without group");
        self.depth -= 1;
        self.body.push_str("</g>\n");
    }

    /// The size drawn so far (the largest x and y reached).
    pub fn extent(&self) -> (f64, f64) {
        (self.width, self.height)
    }

    /// The document, `margin` px added right and below what was drawn, on a white
    /// background.
    pub fn finish(mut self, margin: f64) -> String {
        while self.depth > 0 {
            self.end_group();
        }
        let (w, h) = ((self.width + margin).ceil(), (self.height + margin).ceil());
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{}\">\n\
             <title>{}</title>\n\
             <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n{}</svg>\n",
            escape(FONT),
            escape(&self.title),
            self.body
        )
    }
}

/// A document that is not well-formed XML, or not an SVG.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotSvg(pub String);

impl std::fmt::Display for NotSvg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotSvg {}

/// The text of every `<text>` element of an SVG document, in document order; an error if
/// the document is not well-formed XML or its root is not `<svg>`.
pub fn texts(document: &str) -> Result<Vec<String>, NotSvg> {
    let doc = roxmltree::Document::parse(document).map_err(|e| NotSvg(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return Err(NotSvg(format!(
            "the root element is <{}>, not <svg>",
            root.tag_name().name()
        )));
    }
    Ok(root
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "text")
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_markup_intact() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(escape("bell\u{7}"), "bell?");
        let mut s = Svg::new("x < y & z");
        s.text(
            0.0,
            10.0,
            10.0,
            Anchor::Start,
            "</text><script>",
            &[("fill", "\"red")],
        );
        let doc = s.finish(0.0);
        assert_eq!(texts(&doc).unwrap(), vec!["</text><script>"]);
    }

    #[test]
    fn a_document_is_well_formed_and_sized_to_its_content() {
        let mut s = Svg::new("t");
        s.group(Some("tip"));
        s.rect(10.0, 20.0, 100.0, 30.0, &[("fill", "#eee")]);
        s.line(0.0, 0.0, 200.0, 5.0, &[("stroke", "#000")]);
        s.polyline(&[(0.0, 0.0), (5.0, 60.0)], &[("stroke", "#000")]);
        s.text(0.0, 70.0, 10.0, Anchor::End, "label", &[]);
        let doc = s.finish(10.0);
        assert!(doc.contains("width=\"210\" height=\"83\""), "{doc}");
        assert_eq!(texts(&doc).unwrap(), vec!["label"]);
    }

    #[test]
    fn broken_documents_are_refused() {
        assert!(texts("<svg><text>a</svg>").is_err());
        assert!(texts("<html/>").unwrap_err().0.contains("not <svg>"));
        assert!(texts("").is_err());
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(12.5), "12.5");
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("aaa bbb ccc", 7), vec!["aaa bbb", "ccc"]);
        assert_eq!(wrap("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), vec![""]);
        assert!(wrap(&"word ".repeat(40), 30)
            .iter()
            .all(|l| l.chars().count() <= 30));
    }
}
