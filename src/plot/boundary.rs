//! The TensorFlow Playground picture: a network's output over a 2-D input plane as an
//! orange–white–blue heatmap, with the data points on top (class 0 orange, class 1 blue,
//! white outline for training points, dark outline for test points).
//!
//! The surface is a grid of `nx × ny` outputs at the centers of equal cells covering the
//! bounds; [`DecisionBoundary::grid_points`] lists those inputs in the order
//! [`DecisionBoundary::surface`] expects, so the two cannot disagree. Between cell centers
//! the output is interpolated bilinearly, so even a coarse 50×50 grid draws smooth regions.

use std::path::Path;

use super::axis::{Axis, Frame};
use super::canvas::Image;
use super::color::{BLUE, Colormap, INK, ORANGE, Rgb, WHITE, lerp, palette};
use super::encode::PlotError;
use super::font::{Align, CAP_HEIGHT, CELL_HEIGHT, draw_label, text_width};

/// A decision-boundary plot, built by chaining, then rendered or saved.
///
/// ```
/// use tapegrad::plot::DecisionBoundary;
/// let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0)).title("circle");
/// // Evaluate "the model" at the grid's inputs, in the order the surface expects.
/// let outputs: Vec<f64> = plot.grid_points(40, 40).iter()
///     .map(|&(x, y)| 1.0 / (1.0 + (x * x + y * y - 9.0f64).exp()))
///     .collect();
/// let image = plot
///     .surface(40, 40, &outputs)
///     .points(&[(0.5, -1.0, 1, false), (5.0, 4.5, 0, false), (-4.0, 4.0, 0, true)])
///     .render();
/// assert!(image.width() > 400);
/// ```
#[derive(Clone, Debug)]
pub struct DecisionBoundary {
    x_range: (f64, f64),
    y_range: (f64, f64),
    title: String,
    size: usize,
    surface: Option<(usize, usize, Vec<f64>)>,
    value_range: Option<(f64, f64)>,
    points: Vec<(f64, f64, Label, bool)>,
}

/// What a data point is colored by.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Label {
    Class(usize),
    Target(f64),
}

impl DecisionBoundary {
    /// A plot of the input plane `x_range × y_range`, each given as `(min, max)`.
    ///
    /// # Panics
    /// If a range is empty, reversed or not finite.
    #[track_caller]
    pub fn new(x_range: (f64, f64), y_range: (f64, f64)) -> Self {
        for (name, (lo, hi)) in [("x", x_range), ("y", y_range)] {
            assert!(
                lo.is_finite() && hi.is_finite() && lo < hi,
                "DecisionBoundary::new: {name} range ({lo}, {hi}) must be finite with min < max"
            );
        }
        DecisionBoundary {
            x_range,
            y_range,
            title: String::new(),
            size: 400,
            surface: None,
            value_range: None,
            points: Vec::new(),
        }
    }

    /// The title above the plot.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0)).title("XOR, 4 hidden units").render();
    /// ```
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// The longer side of the plotted square region, in pixels (default 400); the other
    /// side follows the bounds' aspect ratio, so circles in the data stay round.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// // 6 wide, 3 tall: a 300x150 pixel region.
    /// DecisionBoundary::new((-3.0, 3.0), (0.0, 3.0)).size(300).render();
    /// ```
    pub fn size(mut self, pixels: usize) -> Self {
        self.size = pixels.max(60);
        self
    }

    /// The inputs at which to evaluate the network: the centers of an `nx × ny` grid of
    /// cells over the bounds, row by row from the bottom (`y` minimum) row, each row from
    /// left to right.
    ///
    /// ```
    /// use tapegrad::plot::DecisionBoundary;
    /// let grid = DecisionBoundary::new((0.0, 4.0), (0.0, 2.0)).grid_points(2, 2);
    /// assert_eq!(grid, [(1.0, 0.5), (3.0, 0.5), (1.0, 1.5), (3.0, 1.5)]);
    /// ```
    pub fn grid_points(&self, nx: usize, ny: usize) -> Vec<(f64, f64)> {
        let center = |(lo, hi): (f64, f64), i: usize, n: usize| lo + (i as f64 + 0.5) * (hi - lo) / n as f64;
        (0..ny).flat_map(|j| (0..nx).map(move |i| (center(self.x_range, i, nx), center(self.y_range, j, ny)))).collect()
    }

    /// The network's outputs at [`grid_points`](Self::grid_points)`(nx, ny)`, same order.
    /// Outputs all in `[0, 1]` are read as probabilities of class 1 (white at 0.5); others
    /// as a regression output (white at 0, full color at the largest magnitude), unless
    /// [`value_range`](Self::value_range) says otherwise.
    ///
    /// # Panics
    /// If `values.len()` is not `nx * ny` or a side is zero.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// let plot = DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0));
    /// let outputs: Vec<f32> = plot.grid_points(20, 20).iter().map(|&(x, y)| if x * y > 0.0 { 1.0 } else { 0.0 }).collect();
    /// plot.surface(20, 20, &outputs).render();
    /// ```
    #[track_caller]
    pub fn surface<T: Into<f64> + Copy>(mut self, nx: usize, ny: usize, values: &[T]) -> Self {
        assert!(nx > 0 && ny > 0, "DecisionBoundary::surface: grid must be at least 1x1, got {nx}x{ny}");
        assert_eq!(
            values.len(),
            nx * ny,
            "DecisionBoundary::surface: a {nx}x{ny} grid needs {} values, got {}",
            nx * ny,
            values.len()
        );
        self.surface = Some((nx, ny, values.iter().map(|&v| v.into()).collect()));
        self
    }

    /// The output values drawn full orange (`lo`) and full blue (`hi`); white is midway.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// // A tanh output: -1 full orange, 0 white, 1 full blue, as in the Playground.
    /// DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0)).surface(2, 1, &[-0.3, 0.8]).value_range(-1.0, 1.0).render();
    /// ```
    ///
    /// # Panics
    /// If the range is empty, reversed or not finite.
    #[track_caller]
    pub fn value_range(mut self, lo: f64, hi: f64) -> Self {
        assert!(
            lo.is_finite() && hi.is_finite() && lo < hi,
            "DecisionBoundary::value_range: ({lo}, {hi}) must be finite with lo < hi"
        );
        self.value_range = Some((lo, hi));
        self
    }

    /// Data points `(x, y, class, is_test)`: class 0 orange, class 1 blue, further classes
    /// in palette colors; test points get a dark outline instead of a white one.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// let data = [(-0.5, 0.5, 0, false), (0.5, 0.5, 1, false), (0.2, -0.4, 1, true)];
    /// DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0)).points(&data).render();
    /// ```
    pub fn points(mut self, points: &[(f64, f64, usize, bool)]) -> Self {
        self.points.extend(points.iter().map(|&(x, y, class, test)| (x, y, Label::Class(class), test)));
        self
    }

    /// Regression data points `(x, y, target, is_test)`, colored by target on the same
    /// scale as the surface.
    ///
    /// ```
    /// use tapegrad::plot::DecisionBoundary;
    /// let plot = DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0))
    ///     .value_range(-1.0, 1.0)
    ///     .regression_points(&[(0.5, 0.5, 0.25, false), (-0.5, 0.2, -0.9, true)]);
    /// plot.render();
    /// ```
    pub fn regression_points(mut self, points: &[(f64, f64, f64, bool)]) -> Self {
        self.points.extend(points.iter().map(|&(x, y, target, test)| (x, y, Label::Target(target), test)));
        self
    }

    /// The value range the colors span: as set, else probabilities if every output and
    /// target lies in `[0, 1]`, else symmetric around 0.
    fn values_shown(&self) -> (f64, f64) {
        if let Some(range) = self.value_range {
            return range;
        }
        let surface = self.surface.iter().flat_map(|(_, _, values)| values.iter().copied());
        let targets = self.points.iter().filter_map(|p| if let Label::Target(t) = p.2 { Some(t) } else { None });
        let (probabilities, biggest) = surface
            .chain(targets)
            .filter(|v| v.is_finite())
            .fold((true, 0.0f64), |(p, m), v| (p && (0.0..=1.0).contains(&v), m.max(v.abs())));
        if probabilities || biggest == 0.0 { (0.0, 1.0) } else { (-biggest, biggest) }
    }

    /// A point's fill: its class color, or its target on the surface's scale.
    fn point_color(&self, label: Label) -> Rgb {
        match label {
            Label::Class(class) => class_color(class),
            Label::Target(target) => {
                let (lo, hi) = self.values_shown();
                Colormap::Diverging.color((target - lo) / (hi - lo))
            }
        }
    }

    /// Where everything goes: the frame of the plotted region, its axes, the image size,
    /// and the baseline of the key under the plot.
    fn layout(&self) -> (Frame, Axis, Axis, (usize, usize), i64) {
        let (x_span, y_span) = (self.x_range.1 - self.x_range.0, self.y_range.1 - self.y_range.0);
        let ratio = (y_span / x_span).clamp(0.2, 5.0);
        let (plot_w, plot_h) = if ratio <= 1.0 {
            (self.size as i64, (self.size as f64 * ratio).round() as i64)
        } else {
            ((self.size as f64 / ratio).round() as i64, self.size as i64)
        };
        let x_axis = Axis::exact(self.x_range.0, self.x_range.1, (plot_w / 60).max(2) as usize);
        let y_axis = Axis::exact(self.y_range.0, self.y_range.1, (plot_h / 60).max(2) as usize);
        let top = 14 + if self.title.is_empty() { 0 } else { 2 * CELL_HEIGHT as i64 + 6 };
        let left = 14 + y_axis.label_width(1) as i64 + 7;
        let key_row = top + plot_h + 14 + 2 * CAP_HEIGHT as i64 + 10;
        let width = (left + plot_w + 20).max(left + self.key_width() + 20);
        let height = key_row + 2 * CAP_HEIGHT as i64 + 10;
        let frame = Frame { left, top, width: plot_w, height: plot_h, inset: 0.0 };
        (frame, x_axis, y_axis, (width as usize, height as usize), key_row)
    }

    /// Draws the plot.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// let image = DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0)).surface(1, 1, &[1.0]).render();
    /// assert!(image.height() > 400);
    /// ```
    pub fn render(&self) -> Image {
        let (frame, x_axis, y_axis, (width, height), key_row) = self.layout();
        let mut image = Image::new(width, height, WHITE);
        let (plot_w, plot_h) = (frame.width as usize, frame.height as usize);
        let mut plot = Image::new(plot_w, plot_h, [236, 236, 236]);
        let (lo, hi) = self.values_shown();
        if let Some((nx, ny, values)) = &self.surface {
            for py in 0..plot_h {
                for px in 0..plot_w {
                    // Fractional grid index of this pixel's center (cell centers are integers).
                    let gx = (px as f64 + 0.5) / plot_w as f64 * *nx as f64 - 0.5;
                    let gy = (plot_h as f64 - py as f64 - 0.5) / plot_h as f64 * *ny as f64 - 0.5;
                    let value = bilinear(values, *nx, *ny, gx, gy);
                    plot.set_pixel(px as i64, py as i64, shade((value - lo) / (hi - lo)));
                }
            }
        }
        for &(x, y, label, test) in &self.points {
            draw_point(&mut plot, frame.x(&x_axis, x), frame.y(&y_axis, y), self.point_color(label), test);
        }
        image.draw_image(frame.left, frame.top, &plot);
        frame.draw_axes(&mut image, &x_axis, &y_axis, 1, false);
        if !self.title.is_empty() {
            let center = frame.left + frame.width / 2;
            draw_label(&mut image, center, 12 + CAP_HEIGHT as i64, &self.title, INK, 2, Align::Center);
        }
        self.draw_key(&mut image, frame.left, key_row, (lo, hi));
        image
    }

    /// Renders the plot and writes it to `path` as PNG (atomically, see [`Image::save_png`]).
    ///
    /// # Errors
    /// A [`PlotError`] naming `path` if the file cannot be written.
    ///
    /// ```
    /// # use tapegrad::plot::DecisionBoundary;
    /// let path = std::env::temp_dir().join("tapegrad-doc-boundary.png");
    /// DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0)).surface(1, 1, &[0.7]).save_png(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        self.render().save_png(path)
    }

    fn key_entries(&self) -> Vec<(Rgb, bool, String)> {
        let mut classes: Vec<usize> =
            self.points.iter().filter_map(|p| if let Label::Class(c) = p.2 { Some(c) } else { None }).collect();
        classes.sort_unstable();
        classes.dedup();
        let mut entries: Vec<(Rgb, bool, String)> =
            classes.into_iter().map(|c| (class_color(c), false, format!("class {c}"))).collect();
        if self.points.iter().any(|p| p.3) {
            entries.push(([150, 150, 150], true, "test".to_string()));
        }
        entries
    }

    fn key_width(&self) -> i64 {
        let bar = if self.surface.is_some() { 120 + 28 } else { 0 };
        bar + self.key_entries().iter().map(|(_, _, text)| 14 + text_width(text, 1) as i64 + 18).sum::<i64>()
    }

    /// Under the plot: a color bar for the surface, then one marker per class and one
    /// for test points.
    fn draw_key(&self, image: &mut Image, left: i64, y: i64, (lo, hi): (f64, f64)) {
        let mut x = left;
        if self.surface.is_some() {
            let bar = 120;
            for i in 0..bar {
                image.line(left + i, y - 4, left + i, y + 4, shade(i as f64 / (bar - 1) as f64));
            }
            let label = |v: f64| {
                let text = format!("{v:.2}");
                let text = text.trim_end_matches('0').trim_end_matches('.');
                if text == "-0" { "0".to_string() } else { text.to_string() }
            };
            draw_label(image, left, y + 14, &label(lo), INK, 1, Align::Left);
            draw_label(image, left + bar / 2, y + 14, &label(f64::midpoint(lo, hi)), INK, 1, Align::Center);
            draw_label(image, left + bar, y + 14, &label(hi), INK, 1, Align::Right);
            x += bar + 28;
        }
        for (color, test, text) in self.key_entries() {
            draw_point(image, x as f64 + 5.0, y as f64 + 0.5, color, test);
            draw_label(image, x + 14, y, &text, INK, 1, Align::Left);
            x += 14 + text_width(&text, 1) as i64 + 18;
        }
    }
}

fn class_color(class: usize) -> Rgb {
    match class {
        0 => ORANGE,
        1 => BLUE,
        c => palette(c),
    }
}

/// The surface color of `t ∈ [0, 1]`: the diverging map a little paler than the data
/// points, so they stand out on it.
fn shade(t: f64) -> Rgb {
    lerp(Colormap::Diverging.color(t), WHITE, 0.3)
}

/// A data point: a white-rimmed disk, or a dark-rimmed one for test data.
fn draw_point(image: &mut Image, x: f64, y: f64, color: Rgb, test: bool) {
    image.fill_circle(x, y, 5.0, if test { INK } else { WHITE });
    image.fill_circle(x, y, 3.6, color);
}

/// `values` (an `nx × ny` grid, bottom row first) at fractional index `(gx, gy)`, clamped
/// to the grid's edge cells.
fn bilinear(values: &[f64], nx: usize, ny: usize, gx: f64, gy: f64) -> f64 {
    let split = |g: f64, n: usize| {
        let g = g.clamp(0.0, (n - 1) as f64);
        let i = (g.floor() as usize).min(n.saturating_sub(2));
        (i, (i + 1).min(n - 1), g - i as f64)
    };
    let ((i0, i1, fx), (j0, j1, fy)) = (split(gx, nx), split(gy, ny));
    let at = |i: usize, j: usize| values[j * nx + i];
    let bottom = at(i0, j0) * (1.0 - fx) + at(i1, j0) * fx;
    let top = at(i0, j1) * (1.0 - fx) + at(i1, j1) * fx;
    bottom * (1.0 - fy) + top * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_hits_grid_values_and_interpolates_between() {
        let values = [0.0, 1.0, 2.0, 3.0]; // 2x2: bottom row 0, 1; top row 2, 3
        assert_eq!(bilinear(&values, 2, 2, 0.0, 0.0), 0.0);
        assert_eq!(bilinear(&values, 2, 2, 1.0, 1.0), 3.0);
        assert_eq!(bilinear(&values, 2, 2, 0.5, 0.5), 1.5);
        assert_eq!(bilinear(&values, 2, 2, -3.0, 9.0), 2.0, "clamped to the edge");
        assert_eq!(bilinear(&[7.0], 1, 1, 0.3, 0.0), 7.0);
    }

    /// The pixel showing input `(x, y)`.
    fn pixel_at(plot: &DecisionBoundary, image: &Image, x: f64, y: f64) -> Rgb {
        let (frame, x_axis, y_axis, _, _) = plot.layout();
        let px = frame.left + frame.x(&x_axis, x).floor() as i64;
        let py = frame.top + frame.y(&y_axis, y).floor() as i64;
        image.pixel(px as usize, py as usize)
    }

    fn assert_close(found: Rgb, expected: Rgb) {
        let close = found.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 2);
        assert!(close, "found {found:?}, expected {expected:?}");
    }

    #[test]
    fn surface_is_orange_where_class_0_and_blue_where_class_1() {
        // Class 1 to the right of x = 0, with a confident network.
        let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0));
        let values: Vec<f64> = plot.grid_points(30, 30).iter().map(|&(x, _)| if x > 0.0 { 1.0 } else { 0.0 }).collect();
        let plot = plot.surface(30, 30, &values);
        let image = plot.render();
        assert_close(pixel_at(&plot, &image, -4.0, 3.0), shade(0.0));
        assert_close(pixel_at(&plot, &image, 4.0, -3.0), shade(1.0));
    }

    #[test]
    fn grid_rows_run_from_the_bottom() {
        // Output = y: high values (blue) must be drawn at the top.
        let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0));
        let values: Vec<f64> = plot.grid_points(8, 8).iter().map(|&(_, y)| (y + 6.0) / 12.0).collect();
        let plot = plot.surface(8, 8, &values);
        let image = plot.render();
        // Beyond the outer cell centers (at ±5.25) the edge value holds: 15/16 and 1/16.
        assert_close(pixel_at(&plot, &image, 0.0, 5.8), shade(15.0 / 16.0));
        assert_close(pixel_at(&plot, &image, 0.0, -5.8), shade(1.0 / 16.0));
        assert_close(pixel_at(&plot, &image, 0.0, 1.5), shade(7.5 / 12.0));
    }

    #[test]
    fn points_are_drawn_with_their_class_color_and_outline() {
        let plot =
            DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0)).points(&[(-3.0, 0.0, 0, false), (3.0, 0.0, 1, true)]);
        let image = plot.render();
        assert_eq!(pixel_at(&plot, &image, -3.0, 0.0), ORANGE);
        assert_eq!(pixel_at(&plot, &image, 3.0, 0.0), BLUE);
        // The rim, between the inner disk (radius 3.6) and the outer one (radius 5): white
        // for training data, dark for test data.
        let (frame, x_axis, y_axis, _, _) = plot.layout();
        for (x, rim) in [(-3.0, WHITE), (3.0, INK)] {
            let (cx, cy) = (frame.left as f64 + frame.x(&x_axis, x), frame.top as f64 + frame.y(&y_axis, 0.0));
            let near = (-6..=6).flat_map(|dx| (-6..=6).map(move |dy| (cx as i64 + dx, cy as i64 + dy)));
            let ring: Vec<(i64, i64)> = near
                .filter(|&(px, py)| (4.15..=4.45).contains(&(px as f64 + 0.5 - cx).hypot(py as f64 + 0.5 - cy)))
                .collect();
            assert!(ring.len() >= 8, "{ring:?}");
            assert!(ring.iter().all(|&(px, py)| image.pixel(px as usize, py as usize) == rim));
        }
    }

    #[test]
    fn regression_surface_is_white_at_zero() {
        let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0)).surface(3, 1, &[-2.0, 0.0, 2.0]);
        assert_eq!(plot.values_shown(), (-2.0, 2.0));
        let image = plot.render();
        assert_close(pixel_at(&plot, &image, 0.0, 0.0), shade(0.5));
        assert_close(pixel_at(&plot, &image, -5.9, 0.0), shade(0.0));
    }

    #[test]
    fn regression_points_share_the_surface_scale_whatever_the_call_order() {
        let (points, outputs) = ([(0.0, 0.0, 2.0, false)], [-4.0, 0.0, 4.0]);
        let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0));
        let first = plot.clone().regression_points(&points).surface(3, 1, &outputs);
        let last = plot.surface(3, 1, &outputs).regression_points(&points);
        assert_eq!(first.render(), last.render());
        // Target 2 on a ±4 scale: three quarters of the way from orange to blue.
        assert_close(pixel_at(&last, &last.render(), 0.0, 0.0), Colormap::Diverging.color(0.75));
    }

    #[test]
    #[should_panic(expected = "DecisionBoundary::surface: a 3x2 grid needs 6 values, got 5")]
    fn surface_checks_its_length() {
        let _ = DecisionBoundary::new((0.0, 1.0), (0.0, 1.0)).surface(3, 2, &[0.0f32; 5]);
    }
}
