//! Anti-aliased shapes for data: thick lines, disks and rings at float coordinates.
//!
//! Pixel `(x, y)` is the unit square centered on `(x + 0.5, y + 0.5)`. Each shape says how
//! far a pixel center lies inside its edge; that distance, clamped to `[0, 1]`, is the
//! share of the pixel the shape covers and the opacity it is painted with. One rule gives
//! smooth edges to every shape, with no supersampling.

use super::canvas::Image;
use super::color::Rgb;

impl Image {
    /// An anti-aliased line `width` pixels thick with round caps: data curves.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(20, 10, WHITE);
    /// image.thick_line((2.0, 5.0), (18.0, 5.0), 2.0, BLACK);
    /// assert_eq!(image.pixel(10, 5), BLACK);
    /// ```
    pub fn thick_line(&mut self, from: (f64, f64), to: (f64, f64), width: f64, color: Rgb) {
        let half = width / 2.0;
        let ((ax, ay), (bx, by)) = (from, to);
        let (dx, dy) = (bx - ax, by - ay);
        let length2 = dx * dx + dy * dy;
        self.cover(
            ax.min(bx) - half - 1.0,
            ay.min(by) - half - 1.0,
            ax.max(bx) + half + 1.0,
            ay.max(by) + half + 1.0,
            color,
            |px, py| {
                // Distance from the pixel center to the nearest point of the segment.
                let t = if length2 > 0.0 { (((px - ax) * dx + (py - ay) * dy) / length2).clamp(0.0, 1.0) } else { 0.0 };
                let (nx, ny) = (ax + t * dx - px, ay + t * dy - py);
                half + 0.5 - (nx * nx + ny * ny).sqrt()
            },
        );
    }

    /// An anti-aliased filled disk: markers and data points.
    ///
    /// ```
    /// use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(9, 9, WHITE);
    /// image.fill_circle(4.5, 4.5, 3.0, BLACK);
    /// assert_eq!(image.pixel(4, 4), BLACK);
    /// assert_eq!(image.pixel(0, 0), WHITE);
    /// ```
    pub fn fill_circle(&mut self, cx: f64, cy: f64, radius: f64, color: Rgb) {
        self.cover(cx - radius - 1.0, cy - radius - 1.0, cx + radius + 1.0, cy + radius + 1.0, color, |px, py| {
            radius + 0.5 - (px - cx).hypot(py - cy)
        });
    }

    /// An anti-aliased circle outline `width` pixels thick, centered on `radius`: hollow markers.
    ///
    /// ```
    /// # use tapegrad::plot::{Image, color::{BLACK, WHITE}};
    /// let mut image = Image::new(15, 15, WHITE);
    /// image.ring(7.5, 7.5, 5.0, 1.5, BLACK);
    /// assert_eq!((image.pixel(7, 2), image.pixel(7, 7)), (BLACK, WHITE));
    /// ```
    pub fn ring(&mut self, cx: f64, cy: f64, radius: f64, width: f64, color: Rgb) {
        let outer = radius + width / 2.0;
        self.cover(cx - outer - 1.0, cy - outer - 1.0, cx + outer + 1.0, cy + outer + 1.0, color, |px, py| {
            width / 2.0 + 0.5 - ((px - cx).hypot(py - cy) - radius).abs()
        });
    }

    /// Blends `color` into every pixel of a box by `coverage(center)`, clamped to `[0, 1]`:
    /// the one anti-aliasing rule behind all float primitives.
    fn cover(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: Rgb, coverage: impl Fn(f64, f64) -> f64) {
        let clamp_x = |v: f64| v.floor().clamp(0.0, self.width() as f64) as i64;
        let clamp_y = |v: f64| v.floor().clamp(0.0, self.height() as f64) as i64;
        let (x0, x1, y0, y1) = (clamp_x(x0), clamp_x(x1), clamp_y(y0), clamp_y(y1));
        for py in y0..y1 {
            for px in x0..x1 {
                let alpha = coverage(px as f64 + 0.5, py as f64 + 0.5).clamp(0.0, 1.0);
                self.blend_pixel(px, py, color, alpha);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::color::{BLACK, WHITE};
    use super::*;

    #[test]
    fn circle_is_solid_inside_blended_at_the_edge_and_symmetric() {
        let mut image = Image::new(21, 21, WHITE);
        image.fill_circle(10.5, 10.5, 6.0, BLACK);
        assert_eq!(image.pixel(10, 10), BLACK);
        assert_eq!(image.pixel(10, 5), BLACK);
        assert_eq!(image.pixel(10, 2), WHITE);
        let edge = image.pixel(14, 14); // distance ≈ 5.66 + … : partly covered
        assert!(edge != BLACK && edge != WHITE, "{edge:?}");
        for (x, y) in [(3, 10), (7, 4), (15, 12)] {
            assert_eq!(image.pixel(x, y), image.pixel(20 - x, y));
            assert_eq!(image.pixel(x, y), image.pixel(y, x));
        }
    }

    #[test]
    fn ring_is_hollow() {
        let mut image = Image::new(21, 21, WHITE);
        image.ring(10.5, 10.5, 6.0, 1.5, BLACK);
        assert_eq!(image.pixel(10, 10), WHITE);
        assert_eq!(image.pixel(10, 4), BLACK);
    }

    #[test]
    fn thick_line_covers_its_width() {
        let mut image = Image::new(20, 10, WHITE);
        image.thick_line((2.0, 5.0), (18.0, 5.0), 2.0, BLACK);
        assert_eq!((image.pixel(10, 4), image.pixel(10, 5)), (BLACK, BLACK));
        assert_eq!((image.pixel(10, 2), image.pixel(10, 7)), (WHITE, WHITE));
    }
}
