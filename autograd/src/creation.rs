//! Making tensors: from data, constants, ranges, identity, and random values from a seeded
//! generator.
//!
//! Random tensors take the generator as an argument (there is no global random state): the
//! same seed gives the same numbers, drawn in order on the calling thread, whatever the
//! number of threads.

use rand::Rng;

use crate::array::Array;
use crate::element::{Element, lit};
use crate::error::Error;
use crate::indices::Indices;
use crate::shape::{numel, shape_panic};
use crate::tensor::Tensor;

impl<T: Element> Tensor<T> {
    /// A tensor of `shape` holding `data` in row-major order.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if `data.len()` is not the product of `shape`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    /// assert_eq!(x.shape(), &[2, 3]);
    /// assert!(Tensor::from_vec(vec![1.0, 2.0], &[3]).is_err());
    /// ```
    pub fn from_vec(data: Vec<T>, shape: &[usize]) -> Result<Self, Error> {
        Ok(Tensor::from_array(Array::from_vec(data, shape)?))
    }

    /// A zero-dimensional tensor holding one value.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::scalar(2.5f32).item(), 2.5);
    /// ```
    pub fn scalar(value: T) -> Self {
        Tensor::from_array(Array::scalar(value))
    }

    /// A tensor of `shape` filled with `value`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::full(&[2], 7.0f32).to_vec(), vec![7.0, 7.0]);
    /// ```
    pub fn full(shape: &[usize], value: T) -> Self {
        Tensor::from_array(Array::full(shape, value))
    }

    /// A tensor of zeros.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f32>::zeros(&[2, 2]).sum().item(), 0.0);
    /// ```
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, T::zero())
    }

    /// A tensor of ones.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f32>::ones(&[2, 2]).sum().item(), 4.0);
    /// ```
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, T::one())
    }

    /// Zeros shaped like this tensor.
    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.shape())
    }

    /// Ones shaped like this tensor.
    pub fn ones_like(&self) -> Self {
        Self::ones(self.shape())
    }

    /// `start, start + step, …` up to but excluding `end`, as `numpy.arange`.
    ///
    /// # Panics
    /// If `step` is zero or not finite.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::arange(0.0f32, 2.0, 0.5).to_vec(), vec![0.0, 0.5, 1.0, 1.5]);
    /// ```
    #[track_caller]
    pub fn arange(start: T, end: T, step: T) -> Self {
        if step == T::zero() || !step.is_finite() {
            shape_panic(format!("arange: step {step} must be finite and non-zero"));
        }
        let count = ((end - start) / step).ceil().to_usize().unwrap_or(0);
        let values = (0..count).map(|i| start + step * lit::<T>(i as f64)).collect();
        Self::from_vec(values, &[count]).expect("length matches")
    }

    /// `steps` evenly spaced values from `start` to `end` inclusive, as `numpy.linspace`.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::linspace(0.0f32, 1.0, 5).to_vec(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    /// ```
    pub fn linspace(start: T, end: T, steps: usize) -> Self {
        let values: Vec<T> = match steps {
            0 => vec![],
            1 => vec![start],
            _ => {
                let step = (end - start) / lit::<T>((steps - 1) as f64);
                (0..steps).map(|i| if i + 1 == steps { end } else { start + step * lit::<T>(i as f64) }).collect()
            }
        };
        Self::from_vec(values, &[steps]).expect("length matches")
    }

    /// The `n×n` identity matrix.
    ///
    /// ```
    /// use tapegrad_autograd::Tensor;
    /// assert_eq!(Tensor::<f64>::eye(3).sum().item(), 3.0);
    /// ```
    pub fn eye(n: usize) -> Self {
        Tensor::from_array(Array::build(&[n, n], |out| (0..n).for_each(|i| out[i * n + i] = T::one())))
    }

    /// Values drawn uniformly from `[low, high)`.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_autograd::Tensor;
    /// let a = Tensor::<f32>::uniform(&[3], -1.0, 1.0, &mut rand::rngs::StdRng::seed_from_u64(7));
    /// let b = Tensor::<f32>::uniform(&[3], -1.0, 1.0, &mut rand::rngs::StdRng::seed_from_u64(7));
    /// assert_eq!(a.to_vec(), b.to_vec());
    /// assert!(a.to_vec().iter().all(|v| (-1.0..1.0).contains(v)));
    /// ```
    pub fn uniform(shape: &[usize], low: T, high: T, rng: &mut impl Rng) -> Self {
        let values = (0..numel(shape)).map(|_| low + (high - low) * lit::<T>(unit_f64(rng))).collect();
        Self::from_vec(values, shape).expect("length matches")
    }

    /// Values drawn uniformly from `[0, 1)`, as `torch.rand`.
    pub fn rand(shape: &[usize], rng: &mut impl Rng) -> Self {
        Self::uniform(shape, T::zero(), T::one(), rng)
    }

    /// Values drawn from a normal distribution (Box–Muller on the generator's bits).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_autograd::Tensor;
    /// let x = Tensor::<f64>::normal(&[10_000], 2.0, 0.5, &mut rand::rngs::StdRng::seed_from_u64(1));
    /// assert!((x.mean().item() - 2.0).abs() < 0.02);
    /// ```
    pub fn normal(shape: &[usize], mean: T, std: T, rng: &mut impl Rng) -> Self {
        let n = numel(shape);
        let mut values = Vec::with_capacity(n + 1);
        while values.len() < n {
            // 1 - u lies in (0, 1], so the logarithm is finite.
            let (u, v) = (1.0 - unit_f64(rng), unit_f64(rng));
            let radius = (-2.0 * u.ln()).sqrt();
            let angle = std::f64::consts::TAU * v;
            values.push(mean + std * lit::<T>(radius * angle.cos()));
            values.push(mean + std * lit::<T>(radius * angle.sin()));
        }
        values.truncate(n);
        Self::from_vec(values, shape).expect("length matches")
    }

    /// Standard normal values, as `torch.randn`.
    pub fn randn(shape: &[usize], rng: &mut impl Rng) -> Self {
        Self::normal(shape, T::zero(), T::one(), rng)
    }

    /// One row per index with a 1 at the index's column: `[len, num_classes]`.
    ///
    /// # Panics
    /// If an index is not below `num_classes`; the message names the index and its position.
    ///
    /// ```
    /// use tapegrad_autograd::{Indices, Tensor};
    /// let y = Tensor::<f32>::one_hot(&Indices::from(vec![2, 0]), 3);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn one_hot(indices: &Indices, num_classes: usize) -> Self {
        if let Some((j, &i)) = indices.as_slice().iter().enumerate().find(|(_, i)| **i >= num_classes) {
            shape_panic(format!("one_hot: class {i} (at position {j}) is out of range for {num_classes} classes"));
        }
        let mut shape = indices.shape().to_vec();
        shape.push(num_classes);
        Tensor::from_array(Array::build(&shape, |out| {
            for (row, &i) in indices.as_slice().iter().enumerate() {
                out[row * num_classes + i] = T::one();
            }
        }))
    }
}

/// A uniform draw from `[0, 1)` with 53 random bits.
fn unit_f64(rng: &mut impl Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}
