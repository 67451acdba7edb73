//! A confusion-matrix heatmap: one row per actual class, one column per predicted class,
//! each cell showing its count on a blue shaded by its share of the row. The shade follows
//! the square root of the share, so a strong diagonal reads at a glance and a confusion of
//! a few percent (4 → 9 in MNIST) still shows as a clear tint instead of near-white.

use std::path::Path;

use super::canvas::Image;
use super::color::{Colormap, INK, WHITE, contrasting_ink};
use super::encode::PlotError;
use super::font::{Align, CAP_HEIGHT, CELL_HEIGHT, draw_label, text_width};

/// A confusion matrix drawn as a heatmap with counts and class labels.
///
/// ```
/// use tapegrad::plot::ConfusionHeatmap;
/// // counts[actual * classes + predicted]
/// let counts = [50, 2, 0,
///                3, 45, 7,
///                0, 9, 41];
/// let image = ConfusionHeatmap::new(3, &counts).labels(&["cat", "dog", "fox"]).title("pets").render();
/// assert!(image.width() > 3 * 30);
/// ```
#[derive(Clone, Debug)]
pub struct ConfusionHeatmap {
    classes: usize,
    counts: Vec<u64>,
    labels: Vec<String>,
    title: String,
}

impl ConfusionHeatmap {
    /// A heatmap of `counts`, row by row: `counts[actual * classes + predicted]` (the order
    /// of `ConfusionMatrix::count(actual, predicted)` in `tapegrad::nn::metrics`). Classes
    /// are labeled 0, 1, 2… until [`labels`](Self::labels) names them.
    ///
    /// # Panics
    /// If `counts.len()` is not `classes²`, or `classes` is zero.
    #[track_caller]
    pub fn new(classes: usize, counts: &[u64]) -> Self {
        assert!(classes > 0, "ConfusionHeatmap::new: classes must be positive");
        assert_eq!(
            counts.len(),
            classes * classes,
            "ConfusionHeatmap::new: {classes} classes need {} counts, got {}",
            classes * classes,
            counts.len()
        );
        let labels = (0..classes).map(|c| c.to_string()).collect();
        ConfusionHeatmap { classes, counts: counts.to_vec(), labels, title: String::new() }
    }

    /// Names the classes, in class order.
    ///
    /// # Panics
    /// If there is not exactly one label per class.
    ///
    /// ```
    /// # use tapegrad::plot::ConfusionHeatmap;
    /// ConfusionHeatmap::new(2, &[40, 10, 5, 45]).labels(&["ham", "spam"]).render();
    /// ```
    #[track_caller]
    pub fn labels(mut self, labels: &[&str]) -> Self {
        assert_eq!(
            labels.len(),
            self.classes,
            "ConfusionHeatmap::labels: {} classes, got {} labels",
            self.classes,
            labels.len()
        );
        self.labels = labels.iter().map(ToString::to_string).collect();
        self
    }

    /// The title above the matrix.
    ///
    /// ```
    /// # use tapegrad::plot::ConfusionHeatmap;
    /// ConfusionHeatmap::new(2, &[40, 10, 5, 45]).title("accuracy 85%").render();
    /// ```
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// Draws the heatmap.
    ///
    /// ```
    /// # use tapegrad::plot::ConfusionHeatmap;
    /// let image = ConfusionHeatmap::new(2, &[40, 10, 5, 45]).render();
    /// assert!(image.width() >= 2 * 34);
    /// ```
    pub fn render(&self) -> Image {
        let n = self.classes as i64;
        let widest_label = self.labels.iter().map(|l| text_width(l, 1)).max().unwrap_or(0) as i64;
        let widest_count = self.counts.iter().map(|c| text_width(&c.to_string(), 1)).max().unwrap_or(0) as i64;
        let cell = (widest_count.max(widest_label) + 14).max(34);
        let line = CELL_HEIGHT as i64;
        let top = 14 + if self.title.is_empty() { 0 } else { 2 * line + 8 };
        let left = 14 + line + 10 + widest_label + 8;
        let grid = n * cell;
        let width = (left + grid + 16).max(text_width(&self.title, 2) as i64 + 28);
        let height = top + grid + 8 + line + 10 + line + 12;
        let mut image = Image::new(width as usize, height as usize, WHITE);

        for actual in 0..self.classes {
            let row = &self.counts[actual * self.classes..(actual + 1) * self.classes];
            let total = row.iter().sum::<u64>().max(1) as f64;
            for (predicted, &count) in row.iter().enumerate() {
                let (x, y) = (left + predicted as i64 * cell, top + actual as i64 * cell);
                let color = Colormap::Blues.color((count as f64 / total).sqrt());
                image.fill_rect(x, y, cell, cell, color);
                let text = count.to_string();
                draw_label(&mut image, x + cell / 2, y + cell / 2, &text, contrasting_ink(color), 1, Align::Center);
            }
        }
        // Hairlines between cells keep equal neighbors apart.
        for k in 0..=n {
            image.line(left + k * cell, top, left + k * cell, top + grid, [255, 255, 255]);
            image.line(left, top + k * cell, left + grid, top + k * cell, [255, 255, 255]);
        }
        image.stroke_rect(left, top, grid + 1, grid + 1, INK);

        for (c, label) in self.labels.iter().enumerate() {
            let middle = c as i64 * cell + cell / 2;
            draw_label(&mut image, left - 8, top + middle, label, INK, 1, Align::Right);
            draw_label(&mut image, left + middle, top + grid + 8 + CAP_HEIGHT as i64 / 2, label, INK, 1, Align::Center);
        }
        let axis_title_y = top + grid + 8 + line + 10 + CAP_HEIGHT as i64 / 2;
        draw_label(&mut image, left + grid / 2, axis_title_y, "predicted", INK, 1, Align::Center);
        image.draw_text_up(14, top + grid / 2 - text_width("actual", 1) as i64 / 2, "actual", INK, 1);
        if !self.title.is_empty() {
            draw_label(&mut image, width / 2, 12 + CAP_HEIGHT as i64, &self.title, INK, 2, Align::Center);
        }
        image
    }

    /// Renders the heatmap and writes it to `path` as PNG (atomically, see [`Image::save_png`]).
    ///
    /// # Errors
    /// A [`PlotError`] naming `path` if the file cannot be written.
    ///
    /// ```
    /// # use tapegrad::plot::ConfusionHeatmap;
    /// let path = std::env::temp_dir().join("tapegrad-doc-confusion.png");
    /// ConfusionHeatmap::new(2, &[40, 10, 5, 45]).save_png(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        self.render().save_png(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_shaded_by_the_square_root_of_their_share_of_the_row() {
        let image = ConfusionHeatmap::new(2, &[10, 0, 5, 5]).render();
        let full = Colormap::Blues.color(1.0);
        let half = Colormap::Blues.color(0.5f64.sqrt());
        let empty = Colormap::Blues.color(0.0);
        let count = |c| image.pixels().iter().filter(|&&p| p == c).count();
        // Each cell is 34x34 less its hairlines and count text; the two half cells share a shade.
        assert!(count(full) > 500 && count(full) < 34 * 34, "{}", count(full));
        assert!(count(half) > 2 * 500, "{}", count(half));
        assert!(count(empty) > 500, "{}", count(empty));
    }

    #[test]
    fn counts_are_written_in_contrasting_ink() {
        let image = ConfusionHeatmap::new(1, &[7]).render();
        // A one-class matrix is one full cell: its count is white on deep blue.
        assert!(image.pixels().contains(&WHITE));
        let on_cell = image.pixels().iter().filter(|&&p| p == Colormap::Blues.color(1.0)).count();
        assert!(on_cell > 30 * 30 - 60, "{on_cell}");
    }

    #[test]
    fn empty_rows_do_not_divide_by_zero() {
        let image = ConfusionHeatmap::new(2, &[0, 0, 0, 3]).labels(&["a", "b"]).render();
        assert!(image.pixels().contains(&Colormap::Blues.color(1.0)));
    }

    #[test]
    #[should_panic(expected = "ConfusionHeatmap::new: 3 classes need 9 counts, got 4")]
    fn counts_length_is_checked() {
        ConfusionHeatmap::new(3, &[1, 2, 3, 4]);
    }
}
