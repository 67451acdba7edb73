//! Resumable training: a model's parameters and buffers and its optimizer's state in one
//! safetensors file, so an interrupted run continues with bit-identical weights.
//!
//! Names in the file: `model.<parameter>`, `buffer.<buffer>`, `optimizer.<state entry>`;
//! the optimizer's scalars (step counts, learning rate) go in the metadata as
//! `optimizer.<name>`, written so they parse back to the same bits.

use std::collections::BTreeMap;
use std::path::Path;

use tapegrad_nn::Module;
use tapegrad_nn::checkpoint::{Checkpoint, CheckpointError, load, save};
use tapegrad_optim::{OptimError, Optimizer, OptimizerState};

/// Why a training checkpoint could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The file, or the model's tensors in it.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The optimizer's state in it.
    #[error("{path}: {error}")]
    Optimizer {
        /// The file.
        path: String,
        /// What the optimizer refused.
        error: OptimError,
    },
    /// An optimizer scalar in the metadata that is not a number.
    #[error("{path}: metadata {name:?} = {value:?} is not a number")]
    Scalar {
        /// The file.
        path: String,
        /// The metadata key.
        name: String,
        /// What it held.
        value: String,
    },
}

/// Saves `model` and `optimizer` to `path` (atomically), with `metadata` (e.g. the epoch).
///
/// # Errors
/// If the file cannot be written.
///
/// ```
/// use std::collections::BTreeMap;
/// use rand::SeedableRng;
/// use tapegrad::prelude::*;
/// use tapegrad::{load_training, save_training};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let model: Linear = Linear::new(3, 2, &mut rng);
/// let mut adam = Adam::new(model.parameters(), AdamConfig::default()).unwrap();
/// model.forward(&Tensor::ones(&[4, 3])).sum().backward();
/// adam.step();
/// let path = std::env::temp_dir().join("tapegrad_doc_resume.safetensors");
/// save_training(&path, &model, &adam, &BTreeMap::from([("epoch".into(), "1".into())])).unwrap();
///
/// let restored: Linear = Linear::new(3, 2, &mut rng);
/// let mut adam2 = Adam::new(restored.parameters(), AdamConfig::default()).unwrap();
/// let metadata = load_training(&path, &restored, &mut adam2).unwrap();
/// assert_eq!((restored.weight().to_vec(), metadata["epoch"].as_str()), (model.weight().to_vec(), "1"));
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save_training<M: Module + ?Sized>(
    path: impl AsRef<Path>,
    model: &M,
    optimizer: &dyn Optimizer<f32>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), CheckpointError> {
    let mut tensors = Vec::new();
    tensors.extend(model.named_parameters().into_iter().map(|(n, p)| (format!("model.{n}"), p.value())));
    tensors.extend(model.named_buffers().into_iter().map(|(n, b)| (format!("buffer.{n}"), b.value())));
    let state = optimizer.state();
    tensors.extend(state.tensors.into_iter().map(|(n, a)| (format!("optimizer.{n}"), a)));
    let mut metadata = metadata.clone();
    metadata.extend(state.scalars.into_iter().map(|(n, v)| (format!("optimizer.{n}"), v.to_string())));
    save(path, &tensors, &metadata)
}

/// Restores `model` and `optimizer` from a file written by [`save_training`] and returns
/// the rest of its metadata. The model is checked completely (missing, extra or
/// mis-shaped tensors) before anything changes.
///
/// # Errors
/// [`ResumeError`] naming the file and the entry at fault.
pub fn load_training<M: Module + ?Sized>(
    path: impl AsRef<Path>,
    model: &M,
    optimizer: &mut dyn Optimizer<f32>,
) -> Result<BTreeMap<String, String>, ResumeError> {
    let path = path.as_ref();
    let file = load::<f32>(path)?;
    let part = |prefix: &str| Checkpoint {
        tensors: file
            .tensors
            .iter()
            .filter_map(|(n, a)| n.strip_prefix(prefix).map(|n| (n.to_string(), a.clone())))
            .collect(),
        metadata: BTreeMap::new(),
    };
    let mut named = model.named_parameters();
    named.extend(model.named_buffers().into_iter().map(|(n, b)| (format!("buffer:{n}"), b)));
    let mut model_part = part("model.");
    model_part.tensors.extend(part("buffer.").tensors.into_iter().map(|(n, a)| (format!("buffer:{n}"), a)));
    let mut state = OptimizerState::new();
    state.tensors = part("optimizer.").tensors.into_iter().collect();
    let mut rest = BTreeMap::new();
    for (name, value) in &file.metadata {
        match name.strip_prefix("optimizer.") {
            Some(scalar) => {
                let parsed = value.parse::<f64>().map_err(|_| ResumeError::Scalar {
                    path: path.display().to_string(),
                    name: name.clone(),
                    value: value.clone(),
                })?;
                state.scalars.push((scalar.to_string(), parsed));
            }
            None => {
                rest.insert(name.clone(), value.clone());
            }
        }
    }
    // The model first (it changes nothing on error), then the optimizer (likewise).
    let before: Vec<_> = named.iter().map(|(_, p)| p.value()).collect();
    model_part.restore(path, &named)?;
    if let Err(error) = optimizer.load_state(&state) {
        for ((_, p), v) in named.iter().zip(&before) {
            p.assign(v);
        }
        return Err(ResumeError::Optimizer { path: path.display().to_string(), error });
    }
    Ok(rest)
}
