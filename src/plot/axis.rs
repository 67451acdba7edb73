//! Axes: choosing a range and "nice" tick values (steps of 1, 2 or 5 times a power of
//! ten, or decades on a log scale), writing tick labels without float noise
//! (`0.3`, not `0.30000000000000004`), and drawing a frame with its ticks.

use super::canvas::Image;
use super::color::{GRID, INK};
use super::font::{Align, CELL_WIDTH, draw_label, text_width};

/// One axis: the value range it shows and its labeled ticks.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Vec<(f64, String)>,
}

impl Axis {
    /// A linear axis around `[lo, hi]`, widened to the enclosing ticks, with about
    /// `target` steps.
    pub fn nice(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = sane_range(lo, hi);
        let step = nice_step((hi - lo) / target.max(1) as f64);
        let (lo, hi) = ((lo / step + 1e-9).floor() * step, (hi / step - 1e-9).ceil() * step);
        Axis { lo, hi, log: false, ticks: linear_ticks(lo, hi, step) }
    }

    /// A linear axis showing exactly `[lo, hi]`, with about `target` ticks inside it.
    pub fn exact(lo: f64, hi: f64, target: usize) -> Axis {
        let (lo, hi) = sane_range(lo, hi);
        let step = nice_step((hi - lo) / target.max(1) as f64);
        Axis { lo, hi, log: false, ticks: linear_ticks(lo, hi, step) }
    }

    /// A log axis around `[lo, hi]` (both positive), widened to the nearest 1, 2 or 5 ×
    /// 10^k; ticks at 1, 2 and 5 when few decades are shown, else at powers of ten.
    pub fn log(lo: f64, hi: f64, target: usize) -> Axis {
        let (mut lo, mut hi) = sane_range(lo.max(f64::MIN_POSITIVE), hi.max(f64::MIN_POSITIVE));
        if lo <= 0.0 || hi / lo < 1.0 + 1e-9 {
            (lo, hi) = (hi / 2.0, hi * 2.0);
        }
        let (lo, hi) = (round_125(lo, false), round_125(hi, true));
        let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let in_range = |v: f64| v >= lo * (1.0 - 1e-9) && v <= hi * (1.0 + 1e-9);
        let mut ticks: Vec<(f64, String)> = (first..=last)
            .flat_map(|k| [1, 2, 5].map(|m| (f64::from(m) * 10f64.powi(k), m, k)))
            .filter(|&(v, _, _)| in_range(v))
            .map(|(v, m, k)| (v, decade_label(m, k)))
            .collect();
        if ticks.len() > target + 2 {
            let stride = ((last - first) as usize).div_ceil(target.max(1)).max(1) as i32;
            let decades = (first..=last).filter(|k| k.rem_euclid(stride) == 0);
            ticks = decades.map(|k| (10f64.powi(k), decade_label(1, k))).filter(|t| in_range(t.0)).collect();
        }
        Axis { lo, hi, log: true, ticks }
    }

    /// Where `v` sits along the axis: 0 at `lo`, 1 at `hi`, beyond for values outside.
    pub fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The widest tick label, in pixels at `scale`.
    pub fn label_width(&self, scale: usize) -> usize {
        self.ticks.iter().map(|(_, label)| text_width(label, scale)).max().unwrap_or(0)
    }
}

/// Finite, ordered and non-empty: a flat range grows around its value.
fn sane_range(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = match (lo.is_finite(), hi.is_finite()) {
        (true, true) => (lo.min(hi), lo.max(hi)),
        (true, false) => (lo, lo),
        (false, true) => (hi, hi),
        (false, false) => (0.0, 1.0),
    };
    if hi - lo > hi.abs().max(lo.abs()) * 1e-12 {
        return (lo, hi);
    }
    let spread = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
    (lo - spread, hi + spread)
}

/// The smallest of 1, 2, 5 or 10 times a power of ten that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let magnitude = 10f64.powf(raw.log10().floor());
    let mantissa = [1.0, 2.0, 5.0, 10.0].into_iter().find(|&m| m * magnitude >= raw * (1.0 - 1e-9));
    mantissa.unwrap_or(10.0) * magnitude
}

/// `v` rounded down (or `up`) to a value 1, 2 or 5 × 10^k.
fn round_125(v: f64, up: bool) -> f64 {
    let magnitude = 10f64.powf(v.log10().floor());
    let candidates = [0.5, 1.0, 2.0, 5.0, 10.0, 20.0].map(|m| m * magnitude);
    let result = if up {
        candidates.into_iter().find(|&c| c >= v * (1.0 - 1e-9))
    } else {
        candidates.into_iter().rev().find(|&c| c <= v * (1.0 + 1e-9))
    };
    result.unwrap_or(v)
}

fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<(f64, String)> {
    let (first, last) = ((lo / step - 1e-9).ceil() as i64, (hi / step + 1e-9).floor() as i64);
    let biggest = lo.abs().max(hi.abs());
    (first..=last).map(|k| (k as f64 * step, linear_label(k, step, biggest))).collect()
}

/// The label of tick `k · step`, with just the decimals the step needs; scientific
/// notation when values are huge or the step is tiny.
fn linear_label(k: i64, step: f64, biggest: f64) -> String {
    let value = k as f64 * step;
    let step_exponent = step.log10().floor() as i32;
    if biggest >= 1e5 || step_exponent < -4 {
        if k == 0 {
            return "0".to_string();
        }
        let digits = (value.abs().log10().floor() as i32 - step_exponent).max(0) as usize;
        let text = format!("{value:.digits$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa =
            if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
        return format!("{mantissa}e{exponent}");
    }
    let decimals = (-step_exponent).max(0) as usize;
    format!("{value:.decimals$}")
}

/// `m × 10^k` written exactly: `0.05`, `200`, `1e-6`.
fn decade_label(m: i32, k: i32) -> String {
    match k {
        0..=4 => format!("{m}{}", "0".repeat(k as usize)),
        -3..=-1 => format!("0.{}{m}", "0".repeat((-k - 1) as usize)),
        _ => format!("{m}e{k}"),
    }
}

/// Where the data goes in the image: a frame, and an inset that keeps thick lines and
/// markers at the ends of the range from touching it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub left: i64,
    pub top: i64,
    pub width: i64,
    pub height: i64,
    pub inset: f64,
}

impl Frame {
    /// The x pixel coordinate (relative to the frame's left) of value `v`.
    pub fn x(&self, axis: &Axis, v: f64) -> f64 {
        self.inset + axis.fraction(v) * (self.width as f64 - 2.0 * self.inset)
    }

    /// The y pixel coordinate (relative to the frame's top) of value `v`; up is larger.
    pub fn y(&self, axis: &Axis, v: f64) -> f64 {
        self.height as f64 - self.inset - axis.fraction(v) * (self.height as f64 - 2.0 * self.inset)
    }

    /// Ticks and labels below and left of the frame, the frame itself, and (if `grid`)
    /// light lines across the plot at each tick.
    pub fn draw_axes(&self, image: &mut Image, x: &Axis, y: &Axis, scale: usize, grid: bool) {
        let tick = 4 * scale as i64;
        let (right, bottom) = (self.left + self.width - 1, self.top + self.height - 1);
        for (value, label) in &x.ticks {
            let px = self.left + self.x(x, *value).round() as i64;
            let px = px.clamp(self.left, right);
            if grid {
                image.line(px, self.top, px, bottom, GRID);
            }
            image.line(px, bottom, px, bottom + tick, INK);
            let text_y = bottom + tick + 3 * scale as i64 + 7 * scale as i64 / 2;
            draw_label(image, px, text_y, label, INK, scale, Align::Center);
        }
        for (value, label) in &y.ticks {
            let py = self.top + self.y(y, *value).round() as i64;
            let py = py.clamp(self.top, bottom);
            if grid {
                image.line(self.left, py, right, py, GRID);
            }
            image.line(self.left - tick, py, self.left, py, INK);
            let text_x = self.left - tick - (CELL_WIDTH as i64 / 2) * scale as i64;
            draw_label(image, text_x, py, label, INK, scale, Align::Right);
        }
        image.stroke_rect(self.left, self.top, self.width, self.height, INK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(axis: &Axis) -> Vec<&str> {
        axis.ticks.iter().map(|(_, label)| label.as_str()).collect()
    }

    #[test]
    fn nice_steps_are_one_two_five() {
        let steps: Vec<f64> = [0.13, 0.3, 0.7, 1.0, 1.5, 4.0, 9.0, 23.0].map(nice_step).to_vec();
        assert_eq!(steps, vec![0.2, 0.5, 1.0, 1.0, 2.0, 5.0, 10.0, 50.0]);
    }

    #[test]
    fn nice_axis_encloses_the_data_on_tick_values() {
        let axis = Axis::nice(0.07, 2.31, 5);
        assert_eq!((axis.lo, axis.hi), (0.0, 2.5));
        assert_eq!(labels(&axis), ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"]);
        let epochs = Axis::nice(1.0, 20.0, 5);
        assert_eq!(labels(&epochs), ["0", "5", "10", "15", "20"]);
        let negative = Axis::nice(-0.3, 0.25, 5);
        assert_eq!(labels(&negative), ["-0.4", "-0.2", "0.0", "0.2", "0.4"]);
    }

    #[test]
    fn labels_have_no_float_noise_and_go_scientific_at_extremes() {
        assert_eq!(labels(&Axis::exact(0.0, 0.3, 3)), ["0.0", "0.1", "0.2", "0.3"]);
        assert_eq!(labels(&Axis::nice(0.0, 3e-5, 3)), ["0", "1e-5", "2e-5", "3e-5"]);
        assert_eq!(labels(&Axis::nice(0.0, 3e6, 3)), ["0", "1e6", "2e6", "3e6"]);
        assert_eq!(labels(&Axis::nice(1.2e-5, 1.35e-5, 3)), ["1.2e-5", "1.25e-5", "1.3e-5", "1.35e-5"]);
    }

    #[test]
    fn degenerate_ranges_still_give_an_axis() {
        for (lo, hi) in [(3.0, 3.0), (0.0, 0.0), (f64::NAN, f64::NAN), (f64::NEG_INFINITY, 2.0), (5.0, 1.0)] {
            let axis = Axis::nice(lo, hi, 5);
            assert!(axis.lo < axis.hi && axis.lo.is_finite() && axis.hi.is_finite(), "{lo} {hi}: {axis:?}");
            assert!(axis.ticks.len() >= 2, "{lo} {hi}: {axis:?}");
        }
    }

    #[test]
    fn log_axis_ticks() {
        let few = Axis::log(0.05, 2.3, 6);
        assert_eq!((few.lo, few.hi), (0.05, 5.0));
        assert_eq!(labels(&few), ["0.05", "0.1", "0.2", "0.5", "1", "2", "5"]);
        let many = Axis::log(3e-7, 40.0, 5);
        assert_eq!(labels(&many), ["1e-6", "1e-4", "0.01", "1"]);
        let flat = Axis::log(0.3, 0.3, 5);
        assert!(flat.lo < 0.3 && flat.hi > 0.3 && flat.ticks.len() >= 2, "{flat:?}");
        assert!((few.fraction(0.5) - (0.5f64 / 0.05).ln() / 100f64.ln()).abs() < 1e-12);
    }
}
