//! The `Module` trait: anything with a forward pass and named parameters, from one layer to
//! a whole model; and `Sequential`, which stacks modules.
//!
//! Custom models are plain structs that implement [`Module`]: `forward` is ordinary Rust
//! code calling their layers, `named_parameters` lists the layers' parameters under the
//! field names (see [`prefixed`]).

use tapegrad_autograd::{Element, Tensor};

/// A layer or a model: a forward pass, its parameters, and a train/eval mode.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Linear, Module, ReLU, prefixed};
///
/// /// A custom model is a plain struct.
/// struct Mlp {
///     hidden: Linear,
///     output: Linear,
/// }
///
/// impl Module for Mlp {
///     fn forward(&self, x: &Tensor) -> Tensor {
///         self.output.forward(&ReLU.forward(&self.hidden.forward(x)))
///     }
///     fn named_parameters(&self) -> Vec<(String, Tensor)> {
///         let mut all = prefixed("hidden", self.hidden.named_parameters());
///         all.extend(prefixed("output", self.output.named_parameters()));
///         all
///     }
/// }
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let model = Mlp { hidden: Linear::new(4, 8, &mut rng), output: Linear::new(8, 2, &mut rng) };
/// assert_eq!(model.forward(&Tensor::zeros(&[3, 4])).shape(), &[3, 2]);
/// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["hidden.weight", "hidden.bias", "output.weight", "output.bias"]);
/// ```
pub trait Module<T: Element = f32>: Send + Sync {
    /// The output for a batch of inputs.
    fn forward(&self, input: &Tensor<T>) -> Tensor<T>;

    /// Every parameter with its name, in a fixed order (`"weight"`, `"layers.0.bias"`):
    /// what an optimizer updates and a checkpoint stores.
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }

    /// The parameters without their names, for an optimizer.
    fn parameters(&self) -> Vec<Tensor<T>> {
        self.named_parameters().into_iter().map(|(_, p)| p).collect()
    }

    /// State that is not learned by gradients but belongs in a checkpoint (running
    /// statistics of batch normalization), by name.
    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        Vec::new()
    }

    /// Parameters and buffers by name, as PyTorch's `state_dict`: what a checkpoint of the
    /// model must hold (`checkpoint::save_params(path, &model.state_dict(), …)` and
    /// `load_into(path, &model.state_dict())`).
    fn state_dict(&self) -> Vec<(String, Tensor<T>)> {
        let mut all = self.named_parameters();
        all.extend(self.named_buffers());
        all
    }

    /// Switches between training (`true`) and evaluation behaviour: dropout drops only
    /// while training. Layers without such behaviour ignore it.
    fn set_training(&mut self, _training: bool) {}

    /// Training mode, as PyTorch's `model.train()`.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Evaluation mode, as PyTorch's `model.eval()`.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Forgets every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// The number of learnable values.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.numel()).sum()
    }
}

/// Names under a prefix: `("weight", w)` becomes `("hidden.weight", w)`.
pub fn prefixed<T: Element>(prefix: &str, named: Vec<(String, Tensor<T>)>) -> Vec<(String, Tensor<T>)> {
    named.into_iter().map(|(name, p)| (format!("{prefix}.{name}"), p)).collect()
}

/// Modules applied one after another, as PyTorch's `nn.Sequential` and Keras's
/// `Sequential`. Parameters are named by position: `"0.weight"`, `"2.bias"`.
///
/// ```
/// use rand::SeedableRng;
/// use tapegrad_autograd::Tensor;
/// use tapegrad_nn::{Linear, Module, ReLU, Sequential};
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let model: Sequential = Sequential::new().add(Linear::new(2, 4, &mut rng)).add(ReLU).add(Linear::new(4, 1, &mut rng));
/// assert_eq!(model.forward(&Tensor::zeros(&[5, 2])).shape(), &[5, 1]);
/// assert_eq!(model.named_parameters()[2].0, "2.weight");
/// assert_eq!(model.num_parameters(), 2 * 4 + 4 + 4 + 1);
/// ```
pub struct Sequential<T: Element = f32> {
    layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Element> Default for Sequential<T> {
    fn default() -> Self {
        Sequential { layers: Vec::new() }
    }
}

impl<T: Element> Sequential<T> {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// This stack with `layer` appended (Keras's `model.add`).
    #[allow(clippy::should_implement_trait)] // Keras's name, not arithmetic
    pub fn add(mut self, layer: impl Module<T> + 'static) -> Self {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer (for layers chosen at run time).
    pub fn push(&mut self, layer: Box<dyn Module<T>>) {
        self.layers.push(layer);
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module<T>>] {
        &self.layers
    }
}

impl<T: Element> Module<T> for Sequential<T> {
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        self.layers.iter().fold(input.clone(), |x, layer| layer.forward(&x))
    }

    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| prefixed(&i.to_string(), layer.named_parameters()))
            .collect()
    }

    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        self.layers.iter().enumerate().flat_map(|(i, layer)| prefixed(&i.to_string(), layer.named_buffers())).collect()
    }

    fn set_training(&mut self, training: bool) {
        self.layers.iter_mut().for_each(|layer| layer.set_training(training));
    }
}

impl<T: Element, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward(&self, input: &Tensor<T>) -> Tensor<T> {
        (**self).forward(input)
    }
    fn named_parameters(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_parameters()
    }
    fn named_buffers(&self) -> Vec<(String, Tensor<T>)> {
        (**self).named_buffers()
    }
    fn set_training(&mut self, training: bool) {
        (**self).set_training(training)
    }
}
