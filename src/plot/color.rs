//! Colors and colormaps: the 8-bit RGB triple every drawing call takes, a palette of
//! distinct series colors, and the colormaps that turn a number in `[0, 1]` into a color.

/// An 8-bit sRGB color: `[red, green, blue]`.
pub type Rgb = [u8; 3];

/// Pure white, the background of every plot.
pub const WHITE: Rgb = [255, 255, 255];
/// Pure black.
pub const BLACK: Rgb = [0, 0, 0];
/// The dark gray used for text and axes: softer than black, still high contrast.
pub const INK: Rgb = [40, 40, 40];
/// The light gray of grid lines: visible, yet quieter than any data.
pub const GRID: Rgb = [228, 228, 228];
/// TensorFlow Playground's orange: negative values, class 0.
pub const ORANGE: Rgb = [0xf5, 0x93, 0x22];
/// TensorFlow Playground's near-white midpoint: values near the decision threshold.
pub const NEUTRAL: Rgb = [0xe8, 0xea, 0xeb];
/// TensorFlow Playground's blue: positive values, class 1.
pub const BLUE: Rgb = [0x08, 0x77, 0xbd];

/// Ten colors that stay distinct from each other (matplotlib's "tab10", familiar to
/// anyone who has plotted a loss curve in Python).
pub const PALETTE: [Rgb; 10] = [
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0x2c, 0xa0, 0x2c],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x7f, 0x7f, 0x7f],
    [0xbc, 0xbd, 0x22],
    [0x17, 0xbe, 0xcf],
];

/// The `i`-th series color, cycling through [`PALETTE`].
///
/// ```
/// use tapegrad::plot::color::{PALETTE, palette};
/// assert_eq!(palette(0), PALETTE[0]);
/// assert_eq!(palette(10), PALETTE[0]);
/// ```
pub fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// The color a fraction `t` of the way from `a` to `b` (`t` clamped to `[0, 1]`).
///
/// ```
/// use tapegrad::plot::color::{BLACK, WHITE, lerp};
/// assert_eq!(lerp(BLACK, WHITE, 0.5), [128, 128, 128]);
/// ```
pub fn lerp(a: Rgb, b: Rgb, t: f64) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

/// A way to turn a number in `[0, 1]` into a color.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Colormap {
    /// Black at 0, white at 1: pixel intensities.
    Gray,
    /// Playground orange at 0, near-white at ½, Playground blue at 1: signed values such
    /// as weights or a classifier's output around its threshold.
    Diverging,
    /// White at 0 to deep blue at 1: counts and fractions (a confusion matrix).
    Blues,
}

impl Colormap {
    /// The color of `t` (clamped to `[0, 1]`; NaN shows as mid gray so it cannot pass
    /// for a real value).
    ///
    /// ```
    /// use tapegrad::plot::color::{BLUE, Colormap, NEUTRAL, ORANGE};
    /// assert_eq!(Colormap::Diverging.color(0.0), ORANGE);
    /// assert_eq!(Colormap::Diverging.color(0.5), NEUTRAL);
    /// assert_eq!(Colormap::Diverging.color(1.0), BLUE);
    /// assert_eq!(Colormap::Gray.color(1.0), [255, 255, 255]);
    /// ```
    pub fn color(self, t: f64) -> Rgb {
        if t.is_nan() {
            return [150, 150, 150];
        }
        let t = t.clamp(0.0, 1.0);
        match self {
            Colormap::Gray => lerp(BLACK, WHITE, t),
            Colormap::Diverging if t < 0.5 => lerp(ORANGE, NEUTRAL, 2.0 * t),
            Colormap::Diverging => lerp(NEUTRAL, BLUE, 2.0 * t - 1.0),
            // Two legs, so the middle of the range is already a clear mid blue.
            Colormap::Blues if t < 0.5 => lerp(WHITE, [107, 174, 214], 2.0 * t),
            Colormap::Blues => lerp([107, 174, 214], [8, 48, 107], 2.0 * t - 1.0),
        }
    }
}

/// Black or white, whichever reads better on `background` (text inside colored cells).
pub(crate) fn contrasting_ink(background: Rgb) -> Rgb {
    let [r, g, b] = background.map(f64::from);
    // Rec. 601 luma: green looks brightest, blue darkest.
    if 0.299 * r + 0.587 * g + 0.114 * b > 150.0 { INK } else { WHITE }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_hits_both_ends_and_clamps() {
        assert_eq!(lerp(ORANGE, BLUE, 0.0), ORANGE);
        assert_eq!(lerp(ORANGE, BLUE, 1.0), BLUE);
        assert_eq!(lerp(ORANGE, BLUE, 7.0), BLUE);
        assert_eq!(lerp(ORANGE, BLUE, f64::NAN), ORANGE);
    }

    #[test]
    fn colormaps_are_monotone_in_brightness_where_they_should_be() {
        let brightness = |c: Rgb| c.iter().map(|&v| u32::from(v)).sum::<u32>();
        for map in [Colormap::Gray, Colormap::Blues] {
            let values: Vec<u32> = (0..=10).map(|i| brightness(map.color(f64::from(i) / 10.0))).collect();
            let rising = map == Colormap::Gray;
            assert!(values.windows(2).all(|w| if rising { w[0] < w[1] } else { w[0] > w[1] }), "{map:?}: {values:?}");
        }
    }

    #[test]
    fn ink_contrasts_with_background() {
        assert_eq!(contrasting_ink(WHITE), INK);
        assert_eq!(contrasting_ink(Colormap::Blues.color(1.0)), WHITE);
    }
}
