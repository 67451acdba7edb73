//! Feature scaling fitted on training data only: standardizing (zero mean, unit variance)
//! and min-max scaling per feature; pixel bytes to `[0, 1]`; class indices to one-hot rows.
//!
//! A scaler is fitted once, on the training inputs, and then transforms training, validation
//! and test inputs alike: fitting on test data would leak it into training. Features are
//! everything after the sample axis: `[n, f]` has `f`, `[n, c, h, w]` has `c·h·w`.

use tapegrad_autograd::{Array, Indices, Tensor};

/// Per-feature `(x − mean) / std`, as scikit-learn's `StandardScaler` (population std).
/// A constant feature gets std 1, so it becomes 0 rather than NaN.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_datasets::Standardizer;
/// let train = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 5.0], &[2, 2]).unwrap();
/// let scaler = Standardizer::fit(&train);
/// assert_eq!(scaler.mean(), &[2.0, 5.0]);
/// assert_eq!(scaler.std(), &[1.0, 1.0]); // the constant column keeps std 1
/// assert_eq!(scaler.transform(&train).to_vec(), vec![-1.0, 0.0, 1.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Standardizer {
    /// Fits means and standard deviations to `x` (`[n, ...]`), accumulating in f64.
    ///
    /// # Panics
    /// If `x` has no sample axis or no samples.
    #[track_caller]
    pub fn fit(x: &Tensor<f32>) -> Standardizer {
        let (n, f, data) = rows("Standardizer::fit", x);
        let mut mean = vec![0.0f64; f];
        data.chunks_exact(f).for_each(|row| mean.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64));
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0f64; f];
        for row in data.chunks_exact(f) {
            var.iter_mut().zip(row).zip(&mean).for_each(|((s, &v), m)| *s += (v as f64 - m).powi(2));
        }
        let std = var
            .iter()
            .zip(&mean)
            .map(|(s, m)| {
                let std = (s / n as f64).sqrt();
                // Below f32 resolution at this magnitude the feature is constant: std 1
                // (scikit-learn's rule), else dividing by rounding noise blows it up.
                if std <= f32::EPSILON as f64 * m.abs().max(1.0) { 1.0 } else { std as f32 }
            })
            .collect();
        Standardizer { mean: mean.into_iter().map(|m| m as f32).collect(), std }
    }

    /// The fitted means, one per feature.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// The fitted standard deviations (1 for constant features).
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// `(x − mean) / std` per feature.
    ///
    /// # Panics
    /// If `x` does not have the fitted number of features.
    #[track_caller]
    pub fn transform(&self, x: &Tensor<f32>) -> Tensor<f32> {
        affine("Standardizer::transform", x, &self.mean, &self.std, false)
    }

    /// `x · std + mean`: predictions back in the original units.
    ///
    /// # Panics
    /// If `x` does not have the fitted number of features.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::Standardizer;
    /// let prices = Tensor::from_vec(vec![1.0f32, 3.0], &[2, 1]).unwrap();
    /// let scaler = Standardizer::fit(&prices);
    /// let predicted = Tensor::from_vec(vec![0.5f32], &[1, 1]).unwrap(); // in standard units
    /// assert_eq!(scaler.inverse_transform(&predicted).to_vec(), vec![2.5]);
    /// ```
    #[track_caller]
    pub fn inverse_transform(&self, x: &Tensor<f32>) -> Tensor<f32> {
        affine("Standardizer::inverse_transform", x, &self.mean, &self.std, true)
    }
}

/// Per-feature `(x − min) / (max − min)`: training inputs land in `[0, 1]`. A constant
/// feature gets range 1, so it becomes 0.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_datasets::MinMaxScaler;
/// let train = Tensor::from_vec(vec![2.0f32, 7.0, 4.0, 7.0, 6.0, 7.0], &[3, 2]).unwrap();
/// let scaler = MinMaxScaler::fit(&train);
/// assert_eq!(scaler.transform(&train).to_vec(), vec![0.0, 0.0, 0.5, 0.0, 1.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MinMaxScaler {
    min: Vec<f32>,
    range: Vec<f32>,
}

impl MinMaxScaler {
    /// Fits minima and ranges to `x` (`[n, ...]`).
    ///
    /// # Panics
    /// If `x` has no sample axis or no samples.
    #[track_caller]
    pub fn fit(x: &Tensor<f32>) -> MinMaxScaler {
        let (_, f, data) = rows("MinMaxScaler::fit", x);
        let (mut min, mut max) = (vec![f32::INFINITY; f], vec![f32::NEG_INFINITY; f]);
        for row in data.chunks_exact(f) {
            for (j, &v) in row.iter().enumerate() {
                min[j] = min[j].min(v);
                max[j] = max[j].max(v);
            }
        }
        let range = min.iter().zip(&max).map(|(lo, hi)| if hi > lo { hi - lo } else { 1.0 }).collect();
        MinMaxScaler { min, range }
    }

    /// The fitted minima, one per feature.
    pub fn min(&self) -> &[f32] {
        &self.min
    }

    /// The fitted ranges `max − min` (1 for constant features).
    pub fn range(&self) -> &[f32] {
        &self.range
    }

    /// `(x − min) / range` per feature.
    ///
    /// # Panics
    /// If `x` does not have the fitted number of features.
    #[track_caller]
    pub fn transform(&self, x: &Tensor<f32>) -> Tensor<f32> {
        affine("MinMaxScaler::transform", x, &self.min, &self.range, false)
    }

    /// `x · range + min`: back to the original units.
    ///
    /// # Panics
    /// If `x` does not have the fitted number of features.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// use tapegrad_datasets::MinMaxScaler;
    /// let scaler = MinMaxScaler::fit(&Tensor::from_vec(vec![10.0f32, 20.0], &[2, 1]).unwrap());
    /// let half = Tensor::from_vec(vec![0.5f32], &[1, 1]).unwrap();
    /// assert_eq!(scaler.inverse_transform(&half).to_vec(), vec![15.0]);
    /// ```
    #[track_caller]
    pub fn inverse_transform(&self, x: &Tensor<f32>) -> Tensor<f32> {
        affine("MinMaxScaler::inverse_transform", x, &self.min, &self.range, true)
    }
}

/// Pixel bytes as `f32` in `[0, 1]` (`v / 255`), laid out in `shape`.
///
/// Written straight into the tensor's storage: a conversion holds the bytes and one f32 copy,
/// never two f32 copies.
///
/// # Panics
/// If `pixels.len()` is not the product of `shape`.
///
/// ```
/// let t = tapegrad_datasets::pixels_to_tensor(&[0, 51, 255], &[1, 3]);
/// assert_eq!(t.to_vec(), vec![0.0, 0.2, 1.0]);
/// ```
#[track_caller]
pub fn pixels_to_tensor(pixels: &[u8], shape: &[usize]) -> Tensor<f32> {
    let numel: usize = shape.iter().product();
    assert!(pixels.len() == numel, "pixels_to_tensor: {} pixels cannot fill shape {shape:?}", pixels.len());
    tensor_from_fn(shape, |out| out.iter_mut().zip(pixels).for_each(|(o, &p)| *o = p as f32 / 255.0))
}

/// Class indices as one-hot rows `[n, num_classes]`: targets for a squared-error loss.
///
/// # Panics
/// If an index is not below `num_classes`.
///
/// ```
/// let y = tapegrad_datasets::one_hot(&vec![1, 0].into(), 3);
/// assert_eq!(y.to_vec(), vec![0.0, 1.0, 0.0, 1.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn one_hot(labels: &Indices, num_classes: usize) -> Tensor<f32> {
    Tensor::one_hot(labels, num_classes)
}

/// A new tensor of `shape` whose elements `fill` writes in place: one buffer all along
/// (`Tensor::from_vec` would copy a `Vec` into shared storage, holding the data twice for a
/// moment: 376 MB for MNIST's training images).
pub(crate) fn tensor_from_fn(shape: &[usize], fill: impl FnOnce(&mut [f32])) -> Tensor<f32> {
    Tensor::from_array(Array::build(shape, fill))
}

/// `(n, features, row-major data)` of a tensor whose first axis counts samples.
#[track_caller]
fn rows(op: &str, x: &Tensor<f32>) -> (usize, usize, Vec<f32>) {
    let n = *x.shape().first().unwrap_or_else(|| panic!("{op}: a scalar has no samples; expected [n, ...]"));
    assert!(n > 0, "{op}: no samples to fit (shape {:?})", x.shape());
    let f = x.shape()[1..].iter().product::<usize>();
    (n, f, x.to_vec())
}

/// `(x − shift) / scale` or, inverted, `x · scale + shift`, broadcast over the features.
#[track_caller]
fn affine(op: &str, x: &Tensor<f32>, shift: &[f32], scale: &[f32], invert: bool) -> Tensor<f32> {
    let features = &x.shape().get(1..).unwrap_or(&[]);
    let f: usize = features.iter().product();
    assert!(
        x.ndim() >= 1 && f == shift.len(),
        "{op}: fitted on {} features per sample, given shape {:?} ({f} per sample)",
        shift.len(),
        x.shape()
    );
    let shift = Tensor::from_vec(shift.to_vec(), features).expect("one per feature");
    let scale = Tensor::from_vec(scale.to_vec(), features).expect("one per feature");
    if invert { x.mul(&scale).add(&shift) } else { x.sub(&shift).div(&scale) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_feature_stays_finite() {
        let x = Tensor::from_vec(vec![0.1f32; 60_000], &[20_000, 3]).unwrap();
        let s = Standardizer::fit(&x);
        assert_eq!(s.std(), &[1.0, 1.0, 1.0]);
        assert!(s.transform(&x).to_vec().iter().all(|v| *v == 0.0));
        let m = MinMaxScaler::fit(&x);
        assert!(m.transform(&x).to_vec().iter().all(|v| *v == 0.0));
    }

    #[test]
    fn inverse_undoes_transform() {
        let x = Tensor::from_vec(vec![1.0f32, -2.0, 3.5, 10.0, 0.25, 7.0], &[3, 2]).unwrap();
        let (s, m) = (Standardizer::fit(&x), MinMaxScaler::fit(&x));
        for back in [s.inverse_transform(&s.transform(&x)), m.inverse_transform(&m.transform(&x))] {
            assert_eq!(back.shape(), &[3, 2]);
            back.to_vec().iter().zip(x.to_vec()).for_each(|(a, b)| assert!((a - b).abs() < 1e-5, "{a} vs {b}"));
        }
    }

    #[test]
    fn images_scale_per_pixel() {
        let x = Tensor::from_vec((0..12).map(|v| v as f32).collect(), &[2, 1, 2, 3]).unwrap();
        let s = Standardizer::fit(&x);
        assert_eq!(s.mean().len(), 6);
        assert_eq!(s.transform(&x).shape(), &[2, 1, 2, 3]);
    }

    #[test]
    #[should_panic(expected = "Standardizer::transform: fitted on 2 features per sample, given shape [4, 3]")]
    fn the_wrong_width_is_refused() {
        let s = Standardizer::fit(&Tensor::zeros(&[4, 2]));
        s.transform(&Tensor::zeros(&[4, 3]));
    }

    #[test]
    fn filled_tensors_are_constants_not_parameters() {
        let t = tensor_from_fn(&[2], |o| o.copy_from_slice(&[1.0, 2.0]));
        assert!(!t.tracks_grad() && !t.is_parameter());
        assert_eq!(t.to_vec(), vec![1.0, 2.0]);
    }
}
