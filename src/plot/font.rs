//! A small bitmap font for labels and numbers: every printable ASCII character as 5×7
//! pixels in a 6×9 cell (one column of spacing, two rows for descenders such as `g` and
//! `p`), drawn at any whole-number scale.
//!
//! The glyphs are hand-drawn in `font5x7.txt`, where each one can be seen and edited as a
//! picture: six bands of sixteen characters (codes 32 to 127; 127 is the box drawn for
//! characters the font lacks), each band a caption line, nine pixel rows (`#` ink, `.`
//! paper, glyphs separated by one space) and a blank line. The sheet is parsed at compile
//! time, so a malformed edit is a build error, not a surprise at run time.

use super::canvas::Image;
use super::color::Rgb;

/// Width of one character cell at scale 1, spacing included.
pub const CELL_WIDTH: usize = 6;
/// Height of one character cell at scale 1: 7 rows above the baseline, 2 below.
pub const CELL_HEIGHT: usize = 9;
/// Height of capitals and digits at scale 1 (the part of the cell above the baseline).
pub const CAP_HEIGHT: usize = 7;

const GLYPH_WIDTH: usize = 5;
const FIRST: u8 = b' ';
const COUNT: usize = 96;

/// Row bitmaps of every glyph; bit 4 is the leftmost column.
const GLYPHS: [[u8; CELL_HEIGHT]; COUNT] = parse_sheet(include_str!("font5x7.txt").as_bytes());

const fn parse_sheet(sheet: &[u8]) -> [[u8; CELL_HEIGHT]; COUNT] {
    const BAND_LINES: usize = CELL_HEIGHT + 2; // caption, rows, blank
    const LINE_CHARS: usize = 16 * CELL_WIDTH - 1;
    let mut glyphs = [[0u8; CELL_HEIGHT]; COUNT];
    let (mut line, mut column, mut i) = (0, 0, 0);
    while i < sheet.len() {
        let byte = sheet[i];
        i += 1;
        if byte == b'\n' {
            let row = line % BAND_LINES;
            assert!(
                row == 0 || row > CELL_HEIGHT || column == LINE_CHARS,
                "font5x7.txt: a pixel row is not 95 characters"
            );
            line += 1;
            column = 0;
            continue;
        }
        let row = line % BAND_LINES;
        if row >= 1 && row <= CELL_HEIGHT {
            let (glyph, bit) = (line / BAND_LINES * 16 + column / CELL_WIDTH, column % CELL_WIDTH);
            match (byte, bit) {
                (b' ', GLYPH_WIDTH) | (b'.', 0..GLYPH_WIDTH) => {}
                (b'#', 0..GLYPH_WIDTH) => glyphs[glyph][row - 1] |= 1 << (GLYPH_WIDTH - 1 - bit),
                _ => panic!("font5x7.txt: pixel rows hold only '#' and '.', one space between glyphs"),
            }
        }
        column += 1;
    }
    assert!(line >= 6 * BAND_LINES - 1, "font5x7.txt: expected six bands of sixteen glyphs");
    glyphs
}

fn glyph(c: char) -> &'static [u8; CELL_HEIGHT] {
    let code = u32::from(c);
    let index = if (u32::from(FIRST)..127).contains(&code) { (code - u32::from(FIRST)) as usize } else { COUNT - 1 };
    &GLYPHS[index]
}

/// Width in pixels of `text` drawn at `scale`: its cells, less the spacing column after
/// the last one, so centering and right-aligning on it are exact.
///
/// ```
/// use tapegrad::plot::font::text_width;
/// assert_eq!(text_width("7->2", 1), 4 * 6 - 1);
/// assert_eq!(text_width("7->2", 2), 46);
/// assert_eq!(text_width("", 3), 0);
/// ```
pub fn text_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * CELL_WIDTH).saturating_sub(1) * scale.max(1)
}

impl Image {
    /// Writes `text` with its cell's top-left corner at `(x, y)`, each font pixel a
    /// `scale × scale` block. Characters outside printable ASCII show as a small box.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}, font::text_width};
    /// let mut image = Image::new(40, 12, WHITE);
    /// image.draw_text(1, 1, "-1.5e-3", BLACK, 1);
    /// assert_eq!(text_width("-1.5e-3", 1), 41);
    /// assert!(image.pixels().contains(&BLACK));
    /// ```
    pub fn draw_text(&mut self, x: i64, y: i64, text: &str, color: Rgb, scale: usize) {
        self.glyphs(text, color, scale, |col, row| (x + col, y + row));
    }

    /// Writes `text` turned a quarter turn counter-clockwise, reading bottom to top (the
    /// y-axis title), with the rotated cell's top-left corner at `(x, y)`. It is
    /// `text_width` tall and `CELL_HEIGHT × scale` wide.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}, font::{CELL_HEIGHT, text_width}};
    /// let mut image = Image::new(CELL_HEIGHT, text_width("loss", 1), WHITE);
    /// image.draw_text_up(0, 0, "loss", BLACK, 1);
    /// assert!(image.pixels().contains(&BLACK));
    /// ```
    pub fn draw_text_up(&mut self, x: i64, y: i64, text: &str, color: Rgb, scale: usize) {
        let length = text_width(text, scale) as i64;
        self.glyphs(text, color, scale, |col, row| (x + row, y + length - 1 - col));
    }

    /// Paints every ink pixel of `text`, at cell coordinates `(column, row)`, wherever
    /// `place` sends it.
    fn glyphs(&mut self, text: &str, color: Rgb, scale: usize, place: impl Fn(i64, i64) -> (i64, i64)) {
        let scale = scale.max(1) as i64;
        for (i, c) in text.chars().enumerate() {
            for (row, bits) in glyph(c).iter().enumerate() {
                for col in (0..GLYPH_WIDTH).filter(|col| bits & (1 << (GLYPH_WIDTH - 1 - col)) != 0) {
                    let left = (i * CELL_WIDTH + col) as i64 * scale;
                    for (dx, dy) in (0..scale).flat_map(|dx| (0..scale).map(move |dy| (dx, dy))) {
                        let (px, py) = place(left + dx, row as i64 * scale + dy);
                        self.set_pixel(px, py, color);
                    }
                }
            }
        }
    }
}

/// Where a text's anchor point sits on the text, horizontally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// Draws `text` with its cap-height middle at `y` and `x` at the `align` side: what tick
/// labels, legends and titles need.
pub(crate) fn draw_label(image: &mut Image, x: i64, y: i64, text: &str, color: Rgb, scale: usize, align: Align) {
    let width = text_width(text, scale) as i64;
    let left = match align {
        Align::Left => x,
        Align::Center => x - width / 2,
        Align::Right => x - width,
    };
    image.draw_text(left, y - (CAP_HEIGHT * scale.max(1)) as i64 / 2, text, color, scale);
}

#[cfg(test)]
mod tests {
    use super::super::color::{BLACK, WHITE};
    use super::*;

    /// The ink's bounding box: (min x, min y, max x, max y).
    fn ink_box(image: &Image) -> Option<(usize, usize, usize, usize)> {
        let mut bounds: Option<(usize, usize, usize, usize)> = None;
        for y in 0..image.height() {
            for x in (0..image.width()).filter(|&x| image.pixel(x, y) == BLACK) {
                let (a, b, c, d) = bounds.unwrap_or((x, y, x, y));
                bounds = Some((a.min(x), b.min(y), c.max(x), d.max(y)));
            }
        }
        bounds
    }

    #[test]
    fn every_printable_character_has_ink_except_space() {
        for code in 33u8..127 {
            assert!(glyph(char::from(code)).iter().any(|&row| row != 0), "{:?}", char::from(code));
        }
        assert_eq!(glyph(' '), &[0; CELL_HEIGHT]);
        assert_eq!(glyph('é'), &GLYPHS[COUNT - 1]);
    }

    #[test]
    fn glyphs_are_distinct() {
        for a in 32u8..127 {
            for b in a + 1..127 {
                assert_ne!(glyph(char::from(a)), glyph(char::from(b)), "{:?} {:?}", char::from(a), char::from(b));
            }
        }
    }

    #[test]
    fn sheet_parses_known_shapes() {
        assert_eq!(glyph('1')[..7], [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110]);
        assert_eq!(glyph('L')[6], 0b11111);
        assert_ne!(glyph('g')[8], 0, "descender");
    }

    #[test]
    fn drawn_text_spans_the_measured_width() {
        for scale in [1, 3] {
            let mut image = Image::new(200, 40, WHITE);
            image.draw_text(4, 2, "Mw-1.5e-3%", BLACK, scale);
            let (x0, _, x1, _) = ink_box(&image).unwrap();
            // 'M' starts at its first column and '%' ends at its last: ink = measured width.
            assert_eq!((x0, x1 - x0 + 1), (4, text_width("Mw-1.5e-3%", scale)));
        }
    }

    #[test]
    fn capitals_are_cap_height_tall_and_scale_exactly() {
        let mut image = Image::new(40, 40, WHITE);
        image.draw_text(3, 5, "H", BLACK, 2);
        assert_eq!(ink_box(&image), Some((3, 5, 3 + 2 * GLYPH_WIDTH - 1, 5 + 2 * CAP_HEIGHT - 1)));
    }

    #[test]
    fn upright_text_is_the_rotation_of_flat_text() {
        let (mut flat, mut up) = (Image::new(30, 10, WHITE), Image::new(10, 30, WHITE));
        flat.draw_text(0, 0, "loss", BLACK, 1);
        up.draw_text_up(0, 0, "loss", BLACK, 1);
        let width = text_width("loss", 1);
        for y in 0..CELL_HEIGHT {
            for x in 0..width {
                assert_eq!(flat.pixel(x, y), up.pixel(y, width - 1 - x));
            }
        }
    }

    #[test]
    fn centered_label_is_centered() {
        let mut image = Image::new(41, 20, WHITE);
        draw_label(&mut image, 20, 10, "0.5", BLACK, 1, Align::Center);
        let (x0, _, x1, _) = ink_box(&image).unwrap();
        assert!((x0 + x1).abs_diff(40) <= 1, "{x0}..{x1}");
    }
}
