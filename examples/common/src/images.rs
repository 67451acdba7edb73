//! The image classifiers' shared runner: an MLP or a CNN on MNIST, Fashion-MNIST or
//! CIFAR-10 with the same flags, progress, pictures and `final:` line.

use std::path::{Path, PathBuf};

use tapegrad::datasets::{DataError, ImageSet, Splits, Standardizer};
use tapegrad::nn::ConfusionMatrix;
use tapegrad::optim::CosineAnnealingLR;
use tapegrad::plot::{ConfusionHeatmap, ImageGrid};
use tapegrad::prelude::*;
use tapegrad::{Fit, Objective, evaluate};

use super::{Flags, fail, output_dir, print_final, use_threads};

/// Builds a CNN from the image shape `[channels, height, width]`, the number of classes and
/// the `--hidden` flag.
pub type CnnBuilder = fn([usize; 3], usize, &str, &mut StdRng) -> Sequential;

/// What differs between the image examples.
pub struct Task {
    /// The example's name (also the output folder's).
    pub name: &'static str,
    /// Its usage line.
    pub usage: &'static str,
    /// Loads the train and test images from a folder, or the cache (downloading).
    pub load: fn(Option<&Path>, usize) -> Result<Splits<ImageSet>, DataError>,
    /// Default hidden layer widths, e.g. "256,128".
    pub hidden: &'static str,
    /// Default epochs.
    pub epochs: usize,
    /// Default learning rate (Adam).
    pub lr: f64,
    /// Default dropout after each hidden layer.
    pub dropout: f64,
    /// Whether to standardize each input (fitted on the training images).
    pub standardize: bool,
    /// A convolutional model for `[channels, height, width]` images and this many classes
    /// and `--hidden` widths (its to interpret, or ignore; `dropout` is unused; inputs stay
    /// `[n, c, h, w]`); `None` for the MLP.
    pub cnn: Option<CnnBuilder>,
    /// Default optimizer and batch size.
    pub optimizer: &'static str,
    pub batch_size: usize,
    /// Whether the learning rate follows a cosine down to 0 over the epochs by default.
    pub cosine: bool,
}

/// Runs `task` with `args` as flags; returns the metrics of its `final:` line.
pub fn run(task: &Task, args: Vec<String>) -> Vec<(&'static str, f64)> {
    let mut flags = Flags::parse(task.usage, args);
    let data_dir = flags.optional("data-dir", "folder with the data set's files (default: the cache, downloading)");
    let epochs: usize = flags.get("epochs", task.epochs, "passes over the training data");
    let batch_size: usize = flags.get("batch-size", task.batch_size, "samples per step");
    let lr: f64 = flags.get("lr", task.lr, "learning rate");
    let optimizer: String = flags.get("optimizer", task.optimizer.to_string(), "adam, adamw, sgd, rmsprop or adagrad");
    let hidden: String =
        flags.get("hidden", task.hidden.to_string(), "neurons per hidden layer (CNNs: channels per block, if used)");
    let dropout: f64 = flags.get("dropout", task.dropout, "dropout after each hidden layer");
    let seed: u64 = flags.get("seed", 0, "seed for the weights, dropout and shuffling");
    let threads: usize = flags.get("threads", 0, "threads for the kernels (0: RAYON_NUM_THREADS, else one per core)");
    let records: usize =
        flags.get("records-per-file", 0, "CIFAR-10 records per batch file, for subsets (0: the standard 10,000)");
    let cosine: bool = flags.get("cosine", task.cosine, "cosine learning-rate decay to 0 over the epochs");
    let out = flags.optional("out", "folder for the pictures");
    flags.finish();
    use_threads(threads);

    let splits = (task.load)(data_dir.as_deref().map(Path::new), records).unwrap_or_else(|e| fail(&e.to_string()));
    let test_images = splits.test.clone(); // kept as bytes, for the picture of mistakes
    let [channels, height, width] = splits.train.image_shape();
    let classes = splits.train.classes();
    let (mut train, mut test) = match task.cnn {
        Some(_) => (splits.train.into_images(), splits.test.into_images()),
        None => (splits.train.into_dataset(), splits.test.into_dataset()),
    };
    if task.standardize {
        let scaler = Standardizer::fit(&train.inputs);
        train.inputs = scaler.transform(&train.inputs);
        test.inputs = scaler.transform(&test.inputs);
    }
    println!("{}: {} training and {} test images of {channels}×{height}×{width}", task.name, train.len(), test.len());

    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = match task.cnn {
        Some(build) => {
            let model = build([channels, height, width], classes.len(), &hidden, &mut rng);
            println!("model: a CNN of {} layers, {} parameters", model.len(), model.num_parameters());
            model
        }
        None => mlp(&hidden, dropout, seed, channels * height * width, classes.len(), &mut rng),
    };

    let mut optimizer = make_optimizer(&optimizer, model.parameters(), lr);
    let mut schedule = cosine.then(|| CosineAnnealingLR::new(optimizer.as_ref(), epochs.max(1), 0.0).expect("valid"));
    let mut fit = Fit::new(&mut model, optimizer.as_mut(), Objective::CrossEntropy)
        .epochs(epochs)
        .batch_size(batch_size)
        .shuffle(seed)
        .validation_data(&test)
        .progress(true);
    if let Some(schedule) = schedule.as_mut() {
        fit = fit.scheduler(schedule);
    }
    let history = fit.run(&train);

    model.eval();
    let result = evaluate(&model, &test, Objective::CrossEntropy, 512);
    let mut confusion = ConfusionMatrix::new(classes.len());
    let predicted = no_grad(|| predict(&model, &test.inputs, 500));
    confusion.update(&predicted, test.targets.classes().expect("class targets"));
    println!("confusion matrix (rows: actual, columns: predicted)\n{confusion}");

    let dir = output_dir(out, task.name);
    let mut pictures = save_pictures(&dir, task.name, &test_images, &predicted.argmax(1, false).to_vec(), &confusion);
    if task.cnn.is_some() {
        pictures.push(save_filters(&dir, task.name, &model));
    }
    history.plot_loss(&format!("{}: loss", task.name), dir.join("loss.png")).unwrap_or_else(|e| fail(&e.to_string()));
    history.write_csv(dir.join("history.csv")).unwrap_or_else(|e| fail(&e.to_string()));
    println!("wrote {}, loss.png and history.csv in {}", pictures.join(", "), dir.display());

    let seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    let samples = (train.len() * history.epochs.len()) as f64;
    let metrics = vec![("test_accuracy", result.metric), ("test_loss", result.loss)];
    print_final(&metrics, history.epochs.len(), seconds, samples / seconds.max(1e-9));
    metrics
}

/// The MLP: `hidden` widths ("256,128"), ReLU and dropout after each.
fn mlp(hidden: &str, dropout: f64, seed: u64, features: usize, classes: usize, rng: &mut StdRng) -> Sequential {
    let mut model = Sequential::new();
    let mut inputs = features;
    for (i, w) in hidden.split(',').filter(|w| !w.is_empty()).enumerate() {
        let w: usize = w.trim().parse().unwrap_or_else(|e| fail(&format!("--hidden {w:?}: {e}")));
        model = model.add(Linear::with_init(inputs, w, Init::KaimingUniform, true, rng)).add(ReLU);
        if dropout > 0.0 {
            model = model.add(Dropout::new(dropout, seed + i as u64));
        }
        inputs = w;
    }
    model = model.add(Linear::new(inputs, classes, rng));
    println!(
        "model: {features} → {hidden} → {classes} (ReLU, dropout {dropout}), {} parameters",
        model.num_parameters()
    );
    model
}

/// The model's outputs for `inputs`, `batch` rows at a time (a CNN's activations for a
/// whole test set at once would not fit in memory).
fn predict(model: &Sequential, inputs: &Tensor, batch: usize) -> Tensor {
    let n = inputs.shape()[0];
    let parts: Vec<Tensor> = (0..n)
        .step_by(batch.max(1))
        .map(|start| model.forward(&inputs.narrow(0, start, batch.min(n - start))))
        .collect();
    Tensor::concat(&parts.iter().collect::<Vec<_>>(), 0)
}

/// The first convolution's filters as a picture: one tile per output channel (grayscale
/// weights on a diverging colormap for one input channel, colour for three).
fn save_filters(dir: &Path, name: &str, model: &Sequential) -> String {
    let Some((_, weight)) = model.named_parameters().into_iter().find(|(_, p)| p.ndim() == 4) else {
        return String::new();
    };
    let [out, channels, kh, kw] = [0, 1, 2, 3].map(|a| weight.shape()[a]);
    let values = weight.to_vec();
    let mut grid = ImageGrid::new(8.min(out)).scale(8).title(&format!("{name}: first-layer filters"));
    for (o, filter) in values.chunks(channels * kh * kw).enumerate() {
        if channels == 3 {
            let (lo, hi) = filter.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
            let bytes: Vec<u8> = filter.iter().map(|&v| ((v - lo) / (hi - lo).max(1e-12) * 255.0) as u8).collect();
            grid.push_rgb_planes(kw, kh, &bytes, &o.to_string());
        } else {
            grid.push_weights(kw, kh, &filter[..kh * kw], tapegrad::plot::color::Colormap::Diverging, &o.to_string());
        }
    }
    grid.save_png(dir.join("filters.png")).unwrap_or_else(|e| fail(&e.to_string()));
    "filters.png".to_string()
}

/// An optimizer by name, at learning rate `lr`, with PyTorch's other defaults.
pub fn make_optimizer(name: &str, params: Vec<Tensor>, lr: f64) -> Box<dyn Optimizer<f32>> {
    let made: Result<Box<dyn Optimizer<f32>>, _> = match name {
        "adam" => Adam::new(params, AdamConfig { lr, ..Default::default() }).map(|o| Box::new(o) as _),
        "adamw" => AdamW::new(params, AdamWConfig { lr, ..Default::default() }).map(|o| Box::new(o) as _),
        "sgd" => Sgd::new(params, SgdConfig { lr, momentum: 0.9, ..Default::default() }).map(|o| Box::new(o) as _),
        "rmsprop" => RmsProp::new(params, RmsPropConfig { lr, ..Default::default() }).map(|o| Box::new(o) as _),
        "adagrad" => Adagrad::new(params, AdagradConfig { lr, ..Default::default() }).map(|o| Box::new(o) as _),
        other => fail(&format!("--optimizer {other:?}: expected adam, adamw, sgd, rmsprop or adagrad")),
    };
    made.unwrap_or_else(|e| fail(&e.to_string()))
}

/// The first misclassified test images with "actual->predicted" captions, and the confusion
/// matrix as a heatmap; returns the file names.
fn save_pictures(
    dir: &Path,
    name: &str,
    test: &ImageSet,
    predicted: &[usize],
    confusion: &ConfusionMatrix,
) -> Vec<String> {
    let [channels, height, width] = test.image_shape();
    let mut grid = ImageGrid::new(8).scale(3).title(&format!("{name}: misclassified test images (actual->predicted)"));
    let mut shown = 0;
    for (i, &p) in predicted.iter().enumerate() {
        let actual = test.label(i);
        if p != actual && shown < 48 {
            let caption = format!("{actual}->{p}");
            if channels == 1 {
                grid.push_gray(width, height, test.image(i), &caption);
            } else {
                grid.push_rgb_planes(width, height, test.image(i), &caption);
            }
            shown += 1;
        }
    }
    let save = |file: &str, result: Result<(), tapegrad::plot::PlotError>| {
        result.unwrap_or_else(|e| fail(&e.to_string()));
        file.to_string()
    };
    let mut files = Vec::new();
    if shown > 0 {
        files.push(save("misclassified.png", grid.save_png(dir.join("misclassified.png"))));
    }
    let labels: Vec<&str> = test.classes().to_vec();
    let heatmap = ConfusionHeatmap::new(confusion.classes(), confusion.counts())
        .labels(&labels)
        .title(&format!("{name}: confusion matrix"));
    files.push(save("confusion.png", heatmap.save_png(dir.join("confusion.png"))));
    files
}

/// A path from an optional folder flag, for loaders that take `Option<&Path>`.
pub fn folder(dir: Option<&Path>) -> Option<PathBuf> {
    dir.map(Path::to_path_buf)
}
