//! Image grids: many small pictures side by side, enlarged by a whole factor and
//! captioned (misclassified digits captioned "7->2", CIFAR images, or a layer's learned
//! weights, each tile normalized on its own so faint filters still show their pattern).

use std::path::Path;

use super::canvas::Image;
use super::color::{Colormap, INK, WHITE};
use super::encode::PlotError;
use super::font::{Align, CAP_HEIGHT, CELL_HEIGHT, draw_label, text_width};

/// A grid of captioned tiles, filled row by row.
///
/// ```
/// use tapegrad::plot::ImageGrid;
/// let digit = vec![0u8; 28 * 28]; // an MNIST image: 0 is black paper, 255 white ink
/// let mut grid = ImageGrid::new(8).title("misclassified");
/// grid.push_gray(28, 28, &digit, "7->2").push_gray(28, 28, &digit, "4->9");
/// let image = grid.render();
/// assert!(image.width() >= 2 * 28 * 2);
/// ```
#[derive(Clone, Debug)]
pub struct ImageGrid {
    columns: usize,
    scale: usize,
    title: String,
    tiles: Vec<(Image, String)>,
}

impl ImageGrid {
    /// An empty grid `columns` tiles wide, each tile drawn at twice its size.
    ///
    /// # Panics
    /// If `columns` is zero.
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(10); // ten tiles a row
    /// grid.push_gray(2, 2, &[0, 255, 255, 0], "x");
    /// grid.render();
    /// ```
    #[track_caller]
    pub fn new(columns: usize) -> Self {
        assert!(columns > 0, "ImageGrid::new: columns must be positive");
        ImageGrid { columns, scale: 2, title: String::new(), tiles: Vec::new() }
    }

    /// How many screen pixels each image pixel becomes, across and down (at least 1).
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(1).scale(5);
    /// grid.push_gray(28, 28, &[0; 784], "");
    /// assert!(grid.render().width() >= 140);
    /// ```
    pub fn scale(mut self, factor: usize) -> Self {
        self.scale = factor.max(1);
        self
    }

    /// The title above the grid.
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(4).title("epoch 3: errors");
    /// grid.push_gray(1, 1, &[255], "1->7");
    /// grid.render();
    /// ```
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// Adds a tile made from any [`Image`].
    ///
    /// ```
    /// # use tapegrad::plot::{Image, ImageGrid, color::WHITE};
    /// let mut grid = ImageGrid::new(4);
    /// grid.push_image(Image::new(10, 10, WHITE), "blank");
    /// grid.render();
    /// ```
    pub fn push_image(&mut self, image: Image, caption: &str) -> &mut Self {
        self.tiles.push((image, caption.to_string()));
        self
    }

    /// Adds a grayscale tile: `width × height` intensities, row by row, 0 black, 255 white.
    ///
    /// # Panics
    /// If `pixels.len()` is not `width * height`.
    #[track_caller]
    pub fn push_gray(&mut self, width: usize, height: usize, pixels: &[u8], caption: &str) -> &mut Self {
        check_len("push_gray", width, height, 1, pixels.len());
        self.push_image(Image::from_pixels(width, height, pixels.iter().map(|&v| [v, v, v]).collect()), caption)
    }

    /// Adds a color tile from interleaved bytes `r, g, b, r, g, b, …`, row by row.
    ///
    /// # Panics
    /// If `pixels.len()` is not `3 * width * height`.
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(4);
    /// grid.push_rgb(2, 1, &[255, 0, 0, 0, 0, 255], "red, blue");
    /// assert!(grid.render().pixels().contains(&[0, 0, 255]));
    /// ```
    #[track_caller]
    pub fn push_rgb(&mut self, width: usize, height: usize, pixels: &[u8], caption: &str) -> &mut Self {
        check_len("push_rgb", width, height, 3, pixels.len());
        let pixels = pixels.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect();
        self.push_image(Image::from_pixels(width, height, pixels), caption)
    }

    /// Adds a color tile stored as three planes, all red bytes, then green, then blue (the
    /// CIFAR-10 layout, and a `[3, h, w]` tensor's).
    ///
    /// ```
    /// use tapegrad::plot::ImageGrid;
    /// let red_square: Vec<u8> = [255u8, 0, 0].iter().flat_map(|&c| vec![c; 32 * 32]).collect();
    /// let mut grid = ImageGrid::new(4);
    /// grid.push_rgb_planes(32, 32, &red_square, "red");
    /// assert!(grid.render().pixels().contains(&[255, 0, 0]));
    /// ```
    ///
    /// # Panics
    /// If `planes.len()` is not `3 * width * height`.
    #[track_caller]
    pub fn push_rgb_planes(&mut self, width: usize, height: usize, planes: &[u8], caption: &str) -> &mut Self {
        check_len("push_rgb_planes", width, height, 3, planes.len());
        let n = width * height;
        let pixels = (0..n).map(|i| [planes[i], planes[n + i], planes[2 * n + i]]).collect();
        self.push_image(Image::from_pixels(width, height, pixels), caption)
    }

    /// Adds a tile of real values, a learned filter or one neuron's input weights, scaled
    /// to this tile's own range: with [`Colormap::Diverging`], 0 is white and the largest
    /// magnitude full orange (negative) or blue (positive); with the others, the smallest
    /// value maps to 0 and the largest to 1.
    ///
    /// ```
    /// use tapegrad::plot::{ImageGrid, color::{BLUE, Colormap, ORANGE}};
    /// let mut grid = ImageGrid::new(10).scale(4);
    /// grid.push_weights(2, 1, &[-0.02f32, 0.01], Colormap::Diverging, "w0");
    /// let image = grid.render();
    /// assert!(image.pixels().contains(&ORANGE) && !image.pixels().contains(&BLUE));
    /// ```
    ///
    /// # Panics
    /// If `values.len()` is not `width * height`.
    #[track_caller]
    pub fn push_weights<T: Into<f64> + Copy>(
        &mut self,
        width: usize,
        height: usize,
        values: &[T],
        colormap: Colormap,
        caption: &str,
    ) -> &mut Self {
        check_len("push_weights", width, height, 1, values.len());
        let values: Vec<f64> = values.iter().map(|&v| v.into()).collect();
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        let (lo, hi) = (finite().fold(f64::INFINITY, f64::min), finite().fold(f64::NEG_INFINITY, f64::max));
        let biggest = lo.abs().max(hi.abs());
        let t = |v: f64| match colormap {
            Colormap::Diverging if biggest > 0.0 && biggest.is_finite() => 0.5 + v / (2.0 * biggest),
            Colormap::Diverging => 0.5,
            _ if hi > lo => (v - lo) / (hi - lo),
            _ => 0.5,
        };
        let pixels = values.iter().map(|&v| colormap.color(if v.is_nan() { v } else { t(v) })).collect();
        self.push_image(Image::from_pixels(width, height, pixels), caption)
    }

    /// Draws the grid.
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(2).scale(1);
    /// grid.push_gray(3, 3, &[128; 9], "a").push_gray(3, 3, &[128; 9], "b");
    /// assert!(grid.render().pixels().contains(&[128, 128, 128]));
    /// ```
    pub fn render(&self) -> Image {
        let (margin, gap) = (12, 10);
        let columns = self.columns.min(self.tiles.len()).max(1);
        let rows = self.tiles.len().div_ceil(columns).max(1);
        let widest = |f: &dyn Fn(&(Image, String)) -> usize| self.tiles.iter().map(f).max().unwrap_or(0) as i64;
        let tile_w = widest(&|(image, _)| image.width() * self.scale);
        let tile_h = widest(&|(image, _)| image.height() * self.scale);
        let has_captions = self.tiles.iter().any(|(_, caption)| !caption.is_empty());
        let caption_h = if has_captions { CELL_HEIGHT as i64 + 4 } else { 0 };
        let cell_w = tile_w.max(widest(&|(_, caption)| text_width(caption, 1))).max(1);
        let cell_h = tile_h + caption_h;
        let top = margin + if self.title.is_empty() { 0 } else { 2 * CELL_HEIGHT as i64 + 8 };
        let grid_w = columns as i64 * (cell_w + gap) - gap;
        let width = (2 * margin + grid_w).max(2 * margin + text_width(&self.title, 2) as i64).max(120);
        let height = top + rows as i64 * (cell_h + gap) - gap + margin;
        let mut image = Image::new(width as usize, height as usize, WHITE);

        let left = (width - grid_w) / 2;
        for (i, (tile, caption)) in self.tiles.iter().enumerate() {
            let (column, row) = ((i % columns) as i64, (i / columns) as i64);
            let cell_x = left + column * (cell_w + gap);
            let cell_y = top + row * (cell_h + gap);
            let (w, h) = ((tile.width() * self.scale) as i64, (tile.height() * self.scale) as i64);
            let (x, y) = (cell_x + (cell_w - w) / 2, cell_y + (tile_h - h) / 2);
            // A hairline frame keeps near-white tiles from melting into the page.
            image.stroke_rect(x - 1, y - 1, w + 2, h + 2, [210, 210, 210]);
            image.draw_image(x, y, &tile.scaled(self.scale));
            let caption_y = cell_y + tile_h + 4 + CAP_HEIGHT as i64 / 2;
            draw_label(&mut image, cell_x + cell_w / 2, caption_y, caption, INK, 1, Align::Center);
        }
        if self.tiles.is_empty() {
            draw_label(&mut image, width / 2, top + 4, "no images", [150, 150, 150], 1, Align::Center);
        }
        if !self.title.is_empty() {
            draw_label(&mut image, width / 2, margin + CAP_HEIGHT as i64, &self.title, INK, 2, Align::Center);
        }
        image
    }

    /// Renders the grid and writes it to `path` as PNG (atomically, see [`Image::save_png`]).
    ///
    /// # Errors
    /// A [`PlotError`] naming `path` if the file cannot be written.
    ///
    /// ```
    /// # use tapegrad::plot::ImageGrid;
    /// let mut grid = ImageGrid::new(2);
    /// grid.push_gray(3, 3, &[200; 9], "a");
    /// let path = std::env::temp_dir().join("tapegrad-doc-grid.png");
    /// grid.save_png(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        self.render().save_png(path)
    }
}

#[track_caller]
fn check_len(method: &str, width: usize, height: usize, channels: usize, found: usize) {
    assert!(width > 0 && height > 0, "ImageGrid::{method}: tile size must be positive, got {width}x{height}");
    let expected = width * height * channels;
    assert_eq!(found, expected, "ImageGrid::{method}: a {width}x{height} tile needs {expected} values, got {found}");
}

#[cfg(test)]
mod tests {
    use super::super::color::{BLACK, BLUE, NEUTRAL, ORANGE, Rgb};
    use super::*;

    fn count(image: &Image, color: Rgb) -> usize {
        image.pixels().iter().filter(|&&p| p == color).count()
    }

    #[test]
    fn tiles_are_scaled_by_the_factor() {
        // One bright pixel in a dark 4x4 tile becomes a 3x3 block.
        let mut pixels = vec![0u8; 16];
        pixels[5] = 255;
        let mut grid = ImageGrid::new(2).scale(3);
        grid.push_gray(4, 4, &pixels, "");
        let image = grid.render();
        assert_eq!(count(&image, BLACK), 15 * 9);
        let block = image.pixels().iter().position(|&p| p == BLACK).unwrap();
        let (x0, y0) = (block % image.width(), block / image.width());
        assert_eq!(image.pixel(x0 + 3, y0 + 3), WHITE);
        assert_eq!(image.pixel(x0 + 5, y0 + 5), WHITE);
        assert_eq!(image.pixel(x0 + 6, y0 + 5), BLACK);
    }

    #[test]
    fn rgb_layouts_agree() {
        let interleaved = [255u8, 0, 0, 0, 0, 255]; // red, blue
        let planar = [255u8, 0, 0, 0, 0, 255]; // reds, greens, blues
        let (mut a, mut b) = (ImageGrid::new(1), ImageGrid::new(1));
        a.push_rgb(2, 1, &interleaved, "x");
        b.push_rgb_planes(2, 1, &planar, "x");
        let (a, b) = (a.render(), b.render());
        assert_eq!(count(&a, [255, 0, 0]), 4);
        assert_eq!(count(&a, [0, 0, 255]), 4);
        assert_eq!(count(&b, [255, 0, 0]), 4);
        assert_eq!(count(&b, [0, 0, 255]), 4);
    }

    #[test]
    fn weights_are_normalized_per_tile() {
        let mut grid = ImageGrid::new(2).scale(1);
        grid.push_weights(3, 1, &[-1e-3, 0.0, 1e-3], Colormap::Diverging, "small");
        grid.push_weights(3, 1, &[-50.0, 0.0, 100.0], Colormap::Diverging, "large");
        let image = grid.render();
        assert_eq!(count(&image, ORANGE), 1, "only the tiny tile's -1e-3 reaches full orange");
        assert_eq!(count(&image, BLUE), 2, "both tiles' largest value is full blue");
        assert_eq!(count(&image, NEUTRAL), 2, "zero is the midpoint in both");
        let mut flat = ImageGrid::new(1);
        flat.push_weights(2, 2, &[0.0f32; 4], Colormap::Gray, "");
        assert_eq!(count(&flat.render(), [128, 128, 128]), 16);
    }

    #[test]
    fn captions_are_drawn_under_each_tile() {
        let mut grid = ImageGrid::new(3);
        for caption in ["7->2", "4->9", "1->7", "3->5"] {
            grid.push_gray(8, 8, &[255; 64], caption);
        }
        let image = grid.render();
        // Two rows of tiles; the caption ink sits below each tile.
        let ink_rows: Vec<usize> =
            (0..image.height()).filter(|&y| (0..image.width()).any(|x| image.pixel(x, y) == INK)).collect();
        assert!(!ink_rows.is_empty());
        let gaps = ink_rows.windows(2).filter(|w| w[1] > w[0] + 1).count();
        assert_eq!(gaps, 1, "captions of two rows: {ink_rows:?}");
    }

    #[test]
    fn empty_grid_renders() {
        let image = ImageGrid::new(4).title("nothing").render();
        assert!(image.width() > 0 && image.height() > 0);
    }

    #[test]
    #[should_panic(expected = "ImageGrid::push_rgb_planes: a 32x32 tile needs 3072 values, got 1024")]
    fn lengths_are_checked() {
        ImageGrid::new(1).push_rgb_planes(32, 32, &[0; 1024], "");
    }
}
