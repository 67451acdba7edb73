//! Batch normalization (Ioffe & Szegedy, 2015), as PyTorch's `BatchNorm1d` and
//! `BatchNorm2d`: each channel standardized by statistics of the batch while training and
//! by running averages of them in evaluation, then scaled and shifted by learned
//! per-channel γ (weight) and β (bias).
//!
//! Shapes: `BatchNorm1d` takes `[batch, channels]` or `[batch, channels, length]`,
//! `BatchNorm2d` `[batch, channels, h, w]`; the output has the input's shape.

use tapegrad_autograd::{Element, Tensor, lit, no_grad};

use crate::module::Module;

/// Batch normalization over every axis but the channels (axis 1); `D` is the number of
/// spatial axes it expects (`BatchNorm1d`: 0 or 1, `BatchNorm2d`: 2).
///
/// Training (PyTorch's formulas): y = (x − mean) / √(var + eps) · γ + β with the batch's
/// mean and biased variance; then running_mean ← (1 − momentum)·running_mean +
/// momentum·mean and running_var likewise with the unbiased variance. Evaluation uses the
/// running statistics. Those are buffers: saved in checkpoints (`named_buffers`, and
/// [`Module::state_dict`]), never given gradients.
///
/// ```
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{BatchNorm2d, Module};
///
/// let mut bn: BatchNorm2d = BatchNorm2d::new(3);
/// let x = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 2, 2]);
/// let y = bn.forward(&x); // training: each channel now has mean 0
/// assert!(y.mean_dim([0, 2, 3], false).to_vec().iter().all(|m| m.abs() < 1e-5));
/// // running_mean moved 10% of the way from 0 to the batch means (7.5, 11.5, 15.5)
/// let expected = [0.75, 1.15, 1.55];
/// assert!(bn.running_mean().to_vec().iter().zip(expected).all(|(m, e)| (m - e).abs() < 1e-6));
/// bn.eval();
/// assert_eq!(bn.forward(&x).shape(), &[2, 3, 2, 2]);
/// ```
pub struct BatchNorm<T: Element, const D: usize> {
    weight: Tensor<T>,
    bias: Tensor<T>,
    running_mean: Tensor<T>,
    running_var: Tensor<T>,
    eps: f64,
    momentum: f64,
    training: bool,
}

/// Batch normalization of `[batch, channels]` or `[batch, channels, length]` inputs.
pub type BatchNorm1d<T = f32> = BatchNorm<T, 1>;

/// Batch normalization of `[batch, channels, h, w]` images.
pub type BatchNorm2d<T = f32> = BatchNorm<T, 2>;

impl<T: Element, const D: usize> BatchNorm<T, D> {
    /// For `channels` channels: γ = 1, β = 0, running mean 0 and variance 1, eps 1e-5,
    /// momentum 0.1 (PyTorch's defaults), in training mode.
    pub fn new(channels: usize) -> Self {
        // The running statistics are stored as parameters so that optimizers' checkpoint
        // loading can assign them; they are never listed in `named_parameters`, so no
        // optimizer updates them, and forward reads them detached.
        BatchNorm {
            weight: Tensor::ones(&[channels]).requires_grad(),
            bias: Tensor::zeros(&[channels]).requires_grad(),
            running_mean: Tensor::zeros(&[channels]).requires_grad(),
            running_var: Tensor::ones(&[channels]).requires_grad(),
            eps: 1e-5,
            momentum: 0.1,
            training: true,
        }
    }

    /// This layer with another eps (added to the variance before the square root).
    pub fn eps(self, eps: f64) -> Self {
        BatchNorm { eps, ..self }
    }

    /// This layer with another momentum: the weight of each new batch in the running
    /// statistics.
    pub fn momentum(self, momentum: f64) -> Self {
        BatchNorm { momentum, ..self }
    }

    /// γ, `[channels]`.
    pub fn weight(&self) -> &Tensor<T> {
        &self.weight
    }

    /// β, `[channels]`.
    pub fn bias(&self) -> &Tensor<T> {
        &self.bias
    }

    /// The running mean, `[channels]`.
    pub fn running_mean(&self) -> Tensor<T> {
        self.running_mean.detach()
    }

    /// The running (unbiased) variance, `[channels]`.
    pub fn running_var(&self) -> Tensor<T> {
        self.running_var.detach()
    }

    #[track_caller]
    fn check(&self, x: &Tensor<T>) {
        let ok_rank = if D == 2 { x.ndim() == 4 } else { x.ndim() == 2 || x.ndim() == 3 };
        let channels = self.weight.shape()[0];
        if !ok_rank || x.shape()[1] != channels {
            let expected =
                if D == 2 { "[batch, channels, h, w]" } else { "[batch, channels] or [batch, channels, length]" };
            panic!("BatchNorm{D}d: input {:?}: expected {expected} with {channels} channels", x.shape());
        }
    }
}

impl<T: Element, const D: usize> Module<T> for BatchNorm<T, D> {
    /// # Panics
    /// If the input's shape does not fit (the message names it and the channel count), or
    /// while training on a batch with one value per channel (as PyTorch).
    #[track_caller]
    fn forward(&self, x: &Tensor<T>) -> Tensor<T> {
        self.check(x);
        let axes: Vec<isize> = (0..x.ndim() as isize).filter(|&a| a != 1).collect();
        let mut stat_shape = vec![1usize; x.ndim()];
        stat_shape[1] = x.shape()[1];
        let per_channel = |t: &Tensor<T>| t.reshape(stat_shape.as_slice());
        let (mean, var) = if self.training {
            let count = x.numel() / x.shape()[1].max(1);
            if count <= 1 {
                panic!("BatchNorm{D}d: input {:?}: training needs more than one value per channel", x.shape());
            }
            let mean = x.mean_dim(axes.as_slice(), true);
            let var = x.var_dim(axes.as_slice(), 0, true);
            no_grad(|| {
                let m = lit::<T>(self.momentum);
                let unbiased = var.reshape([-1]).detach() * lit::<T>(count as f64 / (count - 1) as f64);
                let new_mean = (self.running_mean.detach() * (T::one() - m)) + mean.reshape([-1]).detach() * m;
                let new_var = (self.running_var.detach() * (T::one() - m)) + unbiased * m;
                self.running_mean.assign(&new_mean.value());
                self.running_var.assign(&new_var.value());
            });
            (mean, var)
        } else {
            (per_channel(&self.running_mean.detach()), per_channel(&self.running_var.detach()))
        };
        let scale = per_channel(&self.weight) / (var + lit::<T>(self.eps)).sqrt();
        (x - &mean) * scale + per_channel(&self.bias)
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        vec![("weight".to_string(), self.weight.clone()), ("bias".to_string(), self.bias.clone())]
    }

    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        vec![
            ("running_mean".to_string(), self.running_mean.clone()),
            ("running_var".to_string(), self.running_var.clone()),
        ]
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
