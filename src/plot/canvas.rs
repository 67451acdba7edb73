//! The canvas: an RGB image in memory and the few drawing primitives every plot is made of.
//!
//! Coordinates are pixels, x to the right and y down, origin at the top-left corner.
//! Integer primitives (`set_pixel`, `line`, `fill_rect`) address pixels directly and
//! silently skip whatever falls outside the image, so callers never clip by hand. Smooth
//! shapes with float coordinates live in `shapes.rs`; text in `font.rs`.

use super::color::Rgb;

/// An RGB image: `width × height` pixels stored row by row from the top.
///
/// ```
/// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
/// let mut image = Image::new(32, 16, WHITE);
/// image.line(0, 15, 31, 0, BLACK);
/// image.draw_text(2, 2, "hi", BLACK, 1);
/// let png: Vec<u8> = image.to_png_bytes();
/// assert!(png.len() > 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    width: usize,
    height: usize,
    pixels: Vec<Rgb>,
}

impl Image {
    /// A `width × height` image filled with `background`.
    ///
    /// # Panics
    /// If `width` or `height` is zero (PNG cannot store an empty image).
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::WHITE};
    /// let image = Image::new(4, 3, WHITE);
    /// assert_eq!((image.width(), image.height()), (4, 3));
    /// assert_eq!(image.pixel(3, 2), WHITE);
    /// ```
    #[track_caller]
    pub fn new(width: usize, height: usize, background: Rgb) -> Self {
        assert!(width > 0 && height > 0, "Image::new: size must be positive, got {width}x{height}");
        Image { width, height, pixels: vec![background; width * height] }
    }

    /// An image made of `pixels`, row by row from the top.
    ///
    /// # Panics
    /// If `pixels.len()` is not `width * height`, or a side is zero.
    ///
    /// ```
    /// use tapegrad::plot::Image;
    /// let image = Image::from_pixels(2, 1, vec![[255, 0, 0], [0, 0, 255]]);
    /// assert_eq!(image.pixel(1, 0), [0, 0, 255]);
    /// ```
    #[track_caller]
    pub fn from_pixels(width: usize, height: usize, pixels: Vec<Rgb>) -> Self {
        assert!(width > 0 && height > 0, "Image::from_pixels: size must be positive, got {width}x{height}");
        assert_eq!(
            pixels.len(),
            width * height,
            "Image::from_pixels: {width}x{height} needs {} pixels, got {}",
            width * height,
            pixels.len()
        );
        Image { width, height, pixels }
    }

    /// Width in pixels.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// assert_eq!(Image::new(5, 3, WHITE).width(), 5);
    /// ```
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// assert_eq!(Image::new(5, 3, WHITE).height(), 3);
    /// ```
    pub fn height(&self) -> usize {
        self.height
    }

    /// All pixels, row by row from the top.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let image = Image::new(2, 2, BLACK);
    /// assert!(image.pixels().iter().all(|&p| p == BLACK));
    /// ```
    pub fn pixels(&self) -> &[Rgb] {
        &self.pixels
    }

    /// The color at column `x`, row `y`.
    ///
    /// # Panics
    /// If `(x, y)` is outside the image.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// assert_eq!(Image::new(2, 2, BLACK).pixel(1, 1), BLACK);
    /// ```
    #[track_caller]
    pub fn pixel(&self, x: usize, y: usize) -> Rgb {
        assert!(x < self.width && y < self.height, "Image::pixel: ({x}, {y}) outside {}x{}", self.width, self.height);
        self.pixels[y * self.width + x]
    }

    fn index(&self, x: i64, y: i64) -> Option<usize> {
        let inside = (0..self.width as i64).contains(&x) && (0..self.height as i64).contains(&y);
        inside.then(|| y as usize * self.width + x as usize)
    }

    /// Paints one pixel; a pixel outside the image is ignored.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(2, 2, WHITE);
    /// image.set_pixel(1, 0, BLACK);
    /// image.set_pixel(-5, 99, BLACK); // off the canvas: nothing happens
    /// assert_eq!(image.pixel(1, 0), BLACK);
    /// ```
    pub fn set_pixel(&mut self, x: i64, y: i64, color: Rgb) {
        if let Some(i) = self.index(x, y) {
            self.pixels[i] = color;
        }
    }

    /// Mixes `color` into one pixel with opacity `alpha` (0 keeps the pixel, 1 replaces it).
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(1, 1, WHITE);
    /// image.blend_pixel(0, 0, BLACK, 0.5);
    /// assert_eq!(image.pixel(0, 0), [128, 128, 128]);
    /// ```
    pub fn blend_pixel(&mut self, x: i64, y: i64, color: Rgb, alpha: f64) {
        if let Some(i) = self.index(x, y)
            && alpha > 0.0
        {
            self.pixels[i] = super::color::lerp(self.pixels[i], color, alpha);
        }
    }

    /// Paints the whole image.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(2, 2, WHITE);
    /// image.fill(BLACK);
    /// assert_eq!(image.pixel(0, 1), BLACK);
    /// ```
    pub fn fill(&mut self, color: Rgb) {
        self.pixels.fill(color);
    }

    /// Paints the `width × height` rectangle whose top-left pixel is `(x, y)`.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(4, 4, WHITE);
    /// image.fill_rect(1, 1, 2, 2, BLACK);
    /// assert_eq!(image.pixels().iter().filter(|&&p| p == BLACK).count(), 4);
    /// ```
    pub fn fill_rect(&mut self, x: i64, y: i64, width: i64, height: i64, color: Rgb) {
        self.blend_rect(x, y, width, height, color, 1.0);
    }

    /// Mixes `color` into a rectangle with opacity `alpha`: a translucent panel.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(4, 4, BLACK);
    /// image.blend_rect(0, 0, 4, 4, WHITE, 0.75);
    /// assert_eq!(image.pixel(2, 2), [191, 191, 191]);
    /// ```
    pub fn blend_rect(&mut self, x: i64, y: i64, width: i64, height: i64, color: Rgb, alpha: f64) {
        let (x0, x1) = (x.max(0), (x + width).min(self.width as i64));
        let (y0, y1) = (y.max(0), (y + height).min(self.height as i64));
        for py in y0..y1 {
            for px in x0..x1 {
                if alpha >= 1.0 {
                    self.set_pixel(px, py, color);
                } else {
                    self.blend_pixel(px, py, color, alpha);
                }
            }
        }
    }

    /// A one-pixel outline of the `width × height` rectangle whose top-left pixel is `(x, y)`.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(5, 5, WHITE);
    /// image.stroke_rect(0, 0, 5, 5, BLACK);
    /// assert_eq!((image.pixel(4, 2), image.pixel(2, 2)), (BLACK, WHITE));
    /// ```
    pub fn stroke_rect(&mut self, x: i64, y: i64, width: i64, height: i64, color: Rgb) {
        if width <= 0 || height <= 0 {
            return;
        }
        let (right, bottom) = (x + width - 1, y + height - 1);
        self.line(x, y, right, y, color);
        self.line(x, bottom, right, bottom, color);
        self.line(x, y, x, bottom, color);
        self.line(right, y, right, bottom, color);
    }

    /// A one-pixel line from `(x0, y0)` to `(x1, y1)`, both ends included: the pixels
    /// Bresenham's algorithm picks. Only the part inside the image is walked, so far-away
    /// endpoints cost nothing.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(10, 10, WHITE);
    /// image.line(0, 0, 9, 9, BLACK);
    /// assert!((0..10).all(|i| image.pixel(i, i) == BLACK));
    /// ```
    pub fn line(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, color: Rgb) {
        // Far beyond any canvas, so clamping changes nothing visible but keeps i128 products exact.
        let [x0, y0, x1, y1] = [x0, y0, x1, y1].map(|v| i128::from(v.clamp(-(1 << 50), 1 << 50)));
        let (dx, dy) = (x1 - x0, y1 - y0);
        let steps = dx.abs().max(dy.abs());
        if steps == 0 {
            self.set_pixel(x0 as i64, y0 as i64, color);
            return;
        }
        // Step i sits at start + round(i·delta/steps), inside the image when i·delta/steps
        // lies in [-start - ½, size - start - ½): walk only those steps (plus one of slack).
        let (mut first, mut last) = (0, steps);
        for (start, delta, size) in [(x0, dx, self.width as i128), (y0, dy, self.height as i128)] {
            if delta == 0 {
                if !(0..size).contains(&start) {
                    return;
                }
                continue;
            }
            let a = (-2 * start - 1) * steps / (2 * delta);
            let b = (2 * (size - start) - 1) * steps / (2 * delta);
            first = first.max(a.min(b) - 1);
            last = last.min(a.max(b) + 1);
        }
        let round_div = |a: i128| (2 * a + steps).div_euclid(2 * steps);
        for i in first.max(0)..=last {
            self.set_pixel((x0 + round_div(i * dx)) as i64, (y0 + round_div(i * dy)) as i64, color);
        }
    }

    /// Copies `other` so its top-left pixel lands on `(x, y)`; whatever falls outside is dropped.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut page = Image::new(4, 4, WHITE);
    /// page.draw_image(3, 3, &Image::new(2, 2, BLACK));
    /// assert_eq!(page.pixel(3, 3), BLACK);
    /// ```
    pub fn draw_image(&mut self, x: i64, y: i64, other: &Image) {
        for (row, line) in other.pixels.chunks(other.width).enumerate() {
            for (col, &color) in line.iter().enumerate() {
                self.set_pixel(x + col as i64, y + row as i64, color);
            }
        }
    }

    /// The `width × height` part of this image whose top-left pixel is `(x, y)`, clipped
    /// to the image (an empty request gives a 1×1 image).
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(4, 4, WHITE);
    /// image.set_pixel(2, 1, BLACK);
    /// let part = image.crop(2, 1, 2, 2);
    /// assert_eq!((part.width(), part.pixel(0, 0)), (2, BLACK));
    /// ```
    pub fn crop(&self, x: usize, y: usize, width: usize, height: usize) -> Image {
        let x = x.min(self.width - 1);
        let y = y.min(self.height - 1);
        let (width, height) = (width.clamp(1, self.width - x), height.clamp(1, self.height - y));
        let rows = self.pixels.chunks(self.width).skip(y).take(height);
        let pixels = rows.flat_map(|row| row[x..x + width].iter().copied()).collect();
        Image { width, height, pixels }
    }

    /// This image enlarged `factor` times, each pixel becoming a `factor × factor` block
    /// (no smoothing, so a 28×28 digit keeps its crisp pixels).
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::WHITE};
    /// assert_eq!(Image::new(3, 2, WHITE).scaled(4).width(), 12);
    /// ```
    ///
    /// # Panics
    /// If `factor` is zero.
    #[track_caller]
    pub fn scaled(&self, factor: usize) -> Image {
        assert!(factor > 0, "Image::scaled: factor must be positive");
        let (width, height) = (self.width * factor, self.height * factor);
        let pixels = (0..width * height).map(|i| self.pixels[(i / width / factor) * self.width + (i % width) / factor]);
        Image { width, height, pixels: pixels.collect() }
    }
}

#[cfg(test)]
mod tests {
    use super::super::color::{BLACK, WHITE};
    use super::*;

    fn black_pixels(image: &Image) -> Vec<(usize, usize)> {
        let coords = (0..image.height).flat_map(|y| (0..image.width).map(move |x| (x, y)));
        coords.filter(|&(x, y)| image.pixel(x, y) == BLACK).collect()
    }

    #[test]
    fn diagonal_line_sets_exactly_the_diagonal() {
        let mut image = Image::new(10, 10, WHITE);
        image.line(0, 0, 9, 9, BLACK);
        assert_eq!(black_pixels(&image), (0..10).map(|i| (i, i)).collect::<Vec<_>>());
    }

    #[test]
    fn line_is_the_same_in_both_directions_and_symmetric() {
        let (mut forward, mut backward) = (Image::new(12, 6, WHITE), Image::new(12, 6, WHITE));
        forward.line(1, 1, 10, 4, BLACK);
        backward.line(10, 4, 1, 1, BLACK);
        let pixels = black_pixels(&forward);
        assert_eq!(pixels.len(), 10, "one pixel per column of a shallow line: {pixels:?}");
        assert_eq!(pixels.first(), Some(&(1, 1)));
        assert_eq!(pixels.last(), Some(&(10, 4)));
        // Rounding ties go the same way from either end only up to one pixel per tie.
        let differing = forward.pixels.iter().zip(&backward.pixels).filter(|(a, b)| a != b).count();
        assert!(differing <= 2, "{differing}");
    }

    #[test]
    fn clipped_line_matches_the_unclipped_one_inside() {
        // The same line drawn on a big canvas and on a small one must agree on the overlap.
        let mut big = Image::new(400, 400, WHITE);
        big.line(-300 + 200, -121 + 200, 350 + 200, 139 + 200, BLACK);
        let mut small = Image::new(40, 40, WHITE);
        small.line(-300, -121, 350, 139, BLACK);
        for y in 0..40 {
            for x in 0..40 {
                assert_eq!(small.pixel(x, y), big.pixel(x + 200, y + 200), "({x}, {y})");
            }
        }
        assert!(!black_pixels(&small).is_empty());
    }

    #[test]
    fn lines_far_outside_draw_nothing_and_do_not_hang() {
        let mut image = Image::new(8, 8, WHITE);
        image.line(i64::MIN / 4, -3, i64::MAX / 4, -3, BLACK);
        image.line(-100, 50, 100, 60, BLACK);
        image.line(20, 20, 20, 20, BLACK);
        assert!(black_pixels(&image).is_empty());
    }

    #[test]
    fn rectangles_clip_and_outline() {
        let mut image = Image::new(5, 5, WHITE);
        image.fill_rect(-2, -2, 4, 4, BLACK);
        assert_eq!(black_pixels(&image), vec![(0, 0), (1, 0), (0, 1), (1, 1)]);
        let mut outline = Image::new(5, 5, WHITE);
        outline.stroke_rect(0, 0, 5, 5, BLACK);
        assert_eq!(black_pixels(&outline).len(), 16);
        assert_eq!(outline.pixel(2, 2), WHITE);
    }

    #[test]
    fn scaled_repeats_pixels_in_blocks() {
        let image = Image::from_pixels(2, 1, vec![BLACK, WHITE]).scaled(3);
        assert_eq!((image.width(), image.height()), (6, 3));
        assert_eq!(image.pixel(2, 2), BLACK);
        assert_eq!(image.pixel(3, 0), WHITE);
    }

    #[test]
    #[should_panic(expected = "Image::from_pixels: 2x2 needs 4 pixels, got 3")]
    fn from_pixels_checks_the_length() {
        Image::from_pixels(2, 2, vec![WHITE; 3]);
    }
}
