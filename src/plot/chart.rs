//! Line charts of training history: several named series of `(x, y)` points (train and
//! test loss per epoch, accuracy…) on nice axes, with a title, axis titles and a legend
//! placed where it hides the least data.
//!
//! Points whose x or y is NaN or infinite (or y ≤ 0 on a log scale) are skipped and break
//! the line there, so a diverged run still plots what it has.

use std::path::Path;

use super::axis::{Axis, Frame};
use super::canvas::Image;
use super::color::{GRID, INK, Rgb, WHITE, palette};
use super::encode::PlotError;
use super::font::{Align, CAP_HEIGHT, CELL_HEIGHT, draw_label, text_width};

/// A line chart, built by chaining options and series, then rendered or saved.
///
/// ```
/// use tapegrad::plot::LineChart;
/// let train = [2.3, 1.1, 0.6, 0.4, 0.31];
/// let test = [2.2, 1.2, 0.8, 0.7, f64::NAN]; // a missing value is skipped
/// let image = LineChart::new()
///     .title("MNIST loss")
///     .x_label("epoch")
///     .y_label("cross-entropy")
///     .log_y()
///     .series_y("train", &train)
///     .series_y("test", &test)
///     .render();
/// assert_eq!((image.width(), image.height()), (720, 450));
/// ```
#[derive(Clone, Debug)]
pub struct LineChart {
    title: String,
    x_label: String,
    y_label: String,
    log_y: bool,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
    size: (usize, usize),
    series: Vec<(String, Vec<(f64, f64)>)>,
}

impl Default for LineChart {
    fn default() -> Self {
        LineChart {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            log_y: false,
            x_range: None,
            y_range: None,
            size: (720, 450),
            series: Vec::new(),
        }
    }
}

impl LineChart {
    /// An empty 720×450 chart.
    ///
    /// ```
    /// use tapegrad::plot::LineChart;
    /// let image = LineChart::new().render(); // no series yet: axes and "no data"
    /// assert_eq!((image.width(), image.height()), (720, 450));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The title above the plot.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// LineChart::new().title("learning rate 0.1").series_y("loss", &[0.9, 0.5]).render();
    /// ```
    pub fn title(mut self, title: &str) -> Self {
        self.title = title.to_string();
        self
    }

    /// The x axis title, under the tick labels.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// LineChart::new().x_label("epoch").series_y("loss", &[0.9, 0.5]).render();
    /// ```
    pub fn x_label(mut self, label: &str) -> Self {
        self.x_label = label.to_string();
        self
    }

    /// The y axis title, written upwards left of the tick labels.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// LineChart::new().y_label("cross-entropy").series_y("loss", &[0.9, 0.5]).render();
    /// ```
    pub fn y_label(mut self, label: &str) -> Self {
        self.y_label = label.to_string();
        self
    }

    /// A logarithmic y axis: losses that fall from 2.3 to 0.01 stay readable all the way.
    /// Values ≤ 0 cannot be shown and are skipped.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// LineChart::new().log_y().series_y("loss", &[2.3, 0.2, 0.01, 0.0]).render();
    /// ```
    pub fn log_y(mut self) -> Self {
        self.log_y = true;
        self
    }

    /// Shows exactly `lo..=hi` on the x axis instead of a range fitted to the data.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// // Leave room for the epochs still to come.
    /// LineChart::new().x_range(0.0, 100.0).series_y("loss", &[0.9, 0.5]).render();
    /// ```
    pub fn x_range(mut self, lo: f64, hi: f64) -> Self {
        self.x_range = Some((lo, hi));
        self
    }

    /// Shows exactly `lo..=hi` on the y axis (say `0.0, 1.0` for accuracy).
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// LineChart::new().y_range(0.0, 1.0).series_y("accuracy", &[0.61, 0.87, 0.93]).render();
    /// ```
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// The image size in pixels (at least 200×150, so the axes fit).
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// assert_eq!(LineChart::new().size(400, 300).render().width(), 400);
    /// ```
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.size = (width.max(200), height.max(150));
        self
    }

    /// Adds a series of `(x, y)` points, drawn in the next palette color.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// let steps: Vec<(f64, f64)> = (0..100).map(|s| (s as f64, 1.0 / (1.0 + s as f64))).collect();
    /// LineChart::new().x_label("step").series("loss", &steps).render();
    /// ```
    pub fn series(mut self, name: &str, points: &[(f64, f64)]) -> Self {
        self.series.push((name.to_string(), points.to_vec()));
        self
    }

    /// Adds a series of y values at x = 1, 2, 3…: one value per epoch.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// let losses: Vec<f32> = vec![0.9, 0.5, 0.4];
    /// LineChart::new().series_y("train", &losses).render();
    /// ```
    pub fn series_y<T: Into<f64> + Copy>(self, name: &str, values: &[T]) -> Self {
        let points: Vec<(f64, f64)> = values.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v.into())).collect();
        self.series(name, &points)
    }

    /// Draws the chart.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// let image = LineChart::new().series_y("loss", &[0.9, 0.5]).render();
    /// assert!(image.pixels().contains(&tapegrad::plot::color::palette(0)));
    /// ```
    pub fn render(&self) -> Image {
        let (width, height) = (self.size.0 as i64, self.size.1 as i64);
        let mut image = Image::new(self.size.0, self.size.1, WHITE);

        // Margins: title on top; tick labels and axis titles left and below.
        let top = 14 + if self.title.is_empty() { 0 } else { 2 * CELL_HEIGHT as i64 + 6 };
        let bottom = 14 + 7 + CAP_HEIGHT as i64 + if self.x_label.is_empty() { 0 } else { CELL_HEIGHT as i64 + 8 };
        let plot_height = height - top - bottom;
        let y_axis = self.y_axis(plot_height);
        let y_title = if self.y_label.is_empty() { 0 } else { CELL_HEIGHT as i64 + 8 };
        let left = 12 + y_title + y_axis.label_width(1) as i64 + 7;
        let plot_width = width - left - 18;
        let x_axis = self.x_axis(plot_width);

        let frame = Frame { left, top, width: plot_width, height: plot_height, inset: 6.0 };
        frame.draw_axes(&mut image, &x_axis, &y_axis, 1, true);
        // Data is drawn on a copy of the plot's inside, so nothing spills over the frame.
        let mut plot =
            image.crop(left as usize + 1, top as usize + 1, plot_width as usize - 2, plot_height as usize - 2);
        let to_pixel = |(x, y): (f64, f64)| (frame.x(&x_axis, x) - 1.0, frame.y(&y_axis, y) - 1.0);
        for (i, (_, points)) in self.series.iter().enumerate() {
            draw_series(&mut plot, points, |p| self.visible(p), to_pixel, palette(i));
        }
        if !self.series.iter().flat_map(|(_, points)| points).any(|p| self.visible(p)) {
            let (cx, cy) = (plot.width() as i64 / 2, plot.height() as i64 / 2);
            draw_label(&mut plot, cx, cy, "no data", [150, 150, 150], 2, Align::Center);
        }
        self.draw_legend(&mut plot);
        image.draw_image(left + 1, top + 1, &plot);

        let center_x = left + plot_width / 2;
        if !self.title.is_empty() {
            draw_label(&mut image, center_x, 12 + CAP_HEIGHT as i64, &self.title, INK, 2, Align::Center);
        }
        if !self.x_label.is_empty() {
            draw_label(&mut image, center_x, height - 14 - CAP_HEIGHT as i64 / 2, &self.x_label, INK, 1, Align::Center);
        }
        if !self.y_label.is_empty() {
            let length = text_width(&self.y_label, 1) as i64;
            image.draw_text_up(12, top + plot_height / 2 - length / 2, &self.y_label, INK, 1);
        }
        image
    }

    /// Renders the chart and writes it to `path` as PNG (atomically, see [`Image::save_png`]).
    ///
    /// # Errors
    /// A [`PlotError`] naming `path` if the file cannot be written.
    ///
    /// ```
    /// # use tapegrad::plot::LineChart;
    /// let path = std::env::temp_dir().join("tapegrad-doc-chart.png");
    /// LineChart::new().series_y("loss", &[0.9, 0.5]).save_png(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), tapegrad::plot::PlotError>(())
    /// ```
    pub fn save_png(&self, path: impl AsRef<Path>) -> Result<(), PlotError> {
        self.render().save_png(path)
    }

    /// Whether a point can be drawn: finite, and positive on a log axis.
    fn visible(&self, &(x, y): &(f64, f64)) -> bool {
        x.is_finite() && y.is_finite() && (!self.log_y || y > 0.0)
    }

    /// The smallest and largest of `coordinate` over all visible points.
    fn data_range(&self, coordinate: fn(&(f64, f64)) -> f64) -> (f64, f64) {
        let values = self.series.iter().flat_map(|(_, points)| points).filter(|p| self.visible(p)).map(coordinate);
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }

    /// The y axis for a plot `plot_height` pixels tall: a tick every 55 pixels or so.
    fn y_axis(&self, plot_height: i64) -> Axis {
        let (lo, hi) = self.y_range.unwrap_or_else(|| self.data_range(|p| p.1));
        let target = (plot_height / 55).max(2) as usize;
        match (self.log_y, self.y_range.is_some()) {
            (true, _) => Axis::log(lo, hi, target),
            (false, true) => Axis::exact(lo, hi, target),
            (false, false) => Axis::nice(lo, hi, target),
        }
    }

    /// The x axis for a plot `plot_width` pixels wide: as many ticks as leave room between
    /// their labels.
    fn x_axis(&self, plot_width: i64) -> Axis {
        let (lo, hi) = self.x_range.unwrap_or_else(|| self.data_range(|p| p.0));
        let axis =
            |target| if self.x_range.is_some() { Axis::exact(lo, hi, target) } else { Axis::nice(lo, hi, target) };
        let fits = |axis: &Axis| {
            let spacing = plot_width as f64 / axis.ticks.len().max(1) as f64;
            axis.label_width(1) as f64 + 16.0 < spacing
        };
        (2..=(plot_width / 70).max(2) as usize).rev().map(axis).find(fits).unwrap_or_else(|| axis(2))
    }

    /// The legend, in the corner of `plot` where it covers the fewest drawn pixels, on a
    /// translucent panel so anything beneath still shows.
    fn draw_legend(&self, plot: &mut Image) {
        let named: Vec<(usize, &str)> = self
            .series
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| !name.is_empty())
            .map(|(i, (n, _))| (i, n.as_str()))
            .collect();
        if named.is_empty() {
            return;
        }
        let row = CELL_HEIGHT as i64 + 5;
        let swatch = 22;
        let text = named.iter().map(|(_, name)| text_width(name, 1)).max().unwrap_or(0) as i64;
        let (w, h) = (8 + swatch + 6 + text + 8, 6 + row * named.len() as i64 + 2);
        let (pw, ph) = (plot.width() as i64, plot.height() as i64);
        let margin = 10;
        let corners = [
            (pw - w - margin, margin),
            (margin, margin),
            (pw - w - margin, ph - h - margin),
            (margin, ph - h - margin),
        ];
        let ink = |&(x, y): &(i64, i64)| {
            let (x, y) = (x.max(0) as usize, y.max(0) as usize);
            plot.crop(x, y, w as usize, h as usize).pixels().iter().filter(|&&p| p != WHITE && p != GRID).count()
        };
        let &(x, y) = corners.iter().min_by_key(|c| ink(c)).unwrap_or(&corners[0]);
        plot.blend_rect(x, y, w, h, WHITE, 0.88);
        plot.stroke_rect(x, y, w, h, [200, 200, 200]);
        for (k, &(i, name)) in named.iter().enumerate() {
            let middle = y + 6 + row * k as i64 + CAP_HEIGHT as i64 / 2;
            let color = palette(i);
            plot.thick_line(
                ((x + 8) as f64, middle as f64 + 0.5),
                ((x + 8 + swatch) as f64, middle as f64 + 0.5),
                2.0,
                color,
            );
            draw_label(plot, x + 8 + swatch + 6, middle, name, INK, 1, Align::Left);
        }
    }
}

/// One series: lines between consecutive visible points, and a marker on every point
/// when they are few (or alone between gaps, where there is no line to show them).
fn draw_series(
    plot: &mut Image,
    points: &[(f64, f64)],
    visible: impl Fn(&(f64, f64)) -> bool,
    to_pixel: impl Fn((f64, f64)) -> (f64, f64),
    color: Rgb,
) {
    let shown = points.iter().filter(|p| visible(p)).count();
    for pair in points.windows(2).filter(|pair| visible(&pair[0]) && visible(&pair[1])) {
        plot.thick_line(to_pixel(pair[0]), to_pixel(pair[1]), 2.0, color);
    }
    for (i, point) in points.iter().enumerate().filter(|(_, p)| visible(p)) {
        let joined = |j: Option<usize>| j.and_then(|j| points.get(j)).is_some_and(&visible);
        if shown <= 30 || !(joined(i.checked_sub(1)) || joined(Some(i + 1))) {
            let (x, y) = to_pixel(*point);
            plot.fill_circle(x, y, 3.0, color);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(image: &Image, color: Rgb) -> usize {
        image.pixels().iter().filter(|&&p| p == color).count()
    }

    /// Top-left pixels of horizontal runs of at least 20 pixels of `color`: the legend's
    /// swatches (data lines here are steep, so they make no such runs).
    fn swatches(image: &Image, color: Rgb) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        for y in 0..image.height() {
            let row: Vec<Rgb> = (0..image.width()).map(|x| image.pixel(x, y)).collect();
            if let Some(x) = row.windows(20).position(|w| w.iter().all(|&p| p == color))
                && !found.iter().any(|&(_, above)| above + 1 == y)
            {
                found.push((x, y));
            }
        }
        found
    }

    #[test]
    fn series_colors_appear_in_plot_and_legend() {
        let image = LineChart::new()
            .title("loss")
            .series_y("train", &[1.0, 0.5, 0.25, 0.2])
            .series_y("test", &[1.1, 0.8, 0.6, 0.45])
            .render();
        for i in 0..2 {
            assert!(count(&image, palette(i)) > 300, "series {i} is drawn");
            assert_eq!(swatches(&image, palette(i)).len(), 1, "series {i} has one legend swatch");
        }
    }

    #[test]
    fn legend_avoids_the_data() {
        // A rising line fills the top-right and bottom-left corners; the legend goes top-left.
        let rising: Vec<(f64, f64)> = (0..=10).map(|i| (f64::from(i), f64::from(i))).collect();
        let image = LineChart::new().series("rising", &rising).render();
        let (x, y) = swatches(&image, palette(0))[0];
        assert!(x < image.width() / 3 && y < image.height() / 3, "swatch at ({x}, {y})");
        // Falling: the top-right corner is free, and it is the first choice.
        let falling: Vec<(f64, f64)> = rising.iter().map(|&(x, y)| (x, -y)).collect();
        let image = LineChart::new().series("falling", &falling).render();
        let (x, y) = swatches(&image, palette(0))[0];
        assert!(x > image.width() / 2 && y < image.height() / 3, "swatch at ({x}, {y})");
    }

    #[test]
    fn nan_and_infinite_points_are_skipped() {
        let clean = LineChart::new().series("a", &[(0.0, 1.0), (1.0, 2.0), (2.0, 3.0)]).render();
        let dirty = LineChart::new()
            .series(
                "a",
                &[(0.0, 1.0), (0.5, f64::NAN), (f64::INFINITY, 9.0), (1.0, 2.0), (2.0, 3.0), (3.0, f64::NEG_INFINITY)],
            )
            .render();
        // Skipped points must not stretch the axes: the NaN-free part draws identically,
        // except that the gap at the NaN breaks the line between x = 0 and x = 1.
        let differing = clean.pixels().iter().zip(dirty.pixels()).filter(|(a, b)| a != b).count();
        assert!(differing > 0 && differing < 2000, "{differing}");
        assert!(count(&dirty, palette(0)) > 20);
    }

    #[test]
    fn log_scale_skips_non_positive_values() {
        let image = LineChart::new().log_y().series_y("loss", &[1.0, 0.0, -1.0, 0.1, 0.01]).render();
        assert!(count(&image, palette(0)) > 20);
    }

    #[test]
    fn empty_and_single_point_series_render() {
        let empty = LineChart::new().title("nothing yet").render();
        assert_eq!((empty.width(), empty.height()), (720, 450));
        let lone = LineChart::new().series("one", &[(3.0, 3.0)]).series("none", &[]).render();
        assert!(count(&lone, palette(0)) > 10, "a single point shows as a marker");
    }

    #[test]
    fn explicit_ranges_are_respected() {
        // A point outside the chosen range is clipped at the plot's edge, not drawn on the margin.
        let image = LineChart::new().size(300, 200).y_range(0.0, 1.0).series("a", &[(0.0, 0.5), (1.0, 5.0)]).render();
        let color = palette(0);
        let top_rows = (0..10).flat_map(|y| (0..image.width()).map(move |x| (x, y)));
        assert!(top_rows.clone().all(|(x, y)| image.pixel(x, y) != color));
    }
}
