//! The image classifiers' shared runner: an MLP on MNIST, Fashion-MNIST or CIFAR-10 with
//! the same flags, progress, pictures and `final:` line.

use std::path::{Path, PathBuf};

use tapegrad::datasets::{DataError, ImageSet, Splits, Standardizer};
use tapegrad::nn::ConfusionMatrix;
use tapegrad::plot::{ConfusionHeatmap, ImageGrid};
use tapegrad::prelude::*;
use tapegrad::{Fit, Objective, evaluate};

use super::{Flags, fail, output_dir, print_final};

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
}

/// Runs `task` with `args` as flags; returns the metrics of its `final:` line.
pub fn run(task: &Task, args: Vec<String>) -> Vec<(&'static str, f64)> {
    let mut flags = Flags::parse(task.usage, args);
    let data_dir = flags.optional("data-dir", "folder with the data set's files (default: the cache, downloading)");
    let epochs: usize = flags.get("epochs", task.epochs, "passes over the training data");
    let batch_size: usize = flags.get("batch-size", 128, "samples per step");
    let lr: f64 = flags.get("lr", task.lr, "learning rate");
    let optimizer: String = flags.get("optimizer", "adam".to_string(), "adam, adamw, sgd, rmsprop or adagrad");
    let hidden: String = flags.get("hidden", task.hidden.to_string(), "neurons per hidden layer");
    let dropout: f64 = flags.get("dropout", task.dropout, "dropout after each hidden layer");
    let seed: u64 = flags.get("seed", 0, "seed for the weights, dropout and shuffling");
    let threads: usize = flags.get("threads", 0, "rayon threads (0: one per core)");
    let records: usize =
        flags.get("records-per-file", 0, "CIFAR-10 records per batch file, for subsets (0: the standard 10,000)");
    let out = flags.optional("out", "folder for the pictures");
    flags.finish();
    if threads > 0 {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    }

    let splits = (task.load)(data_dir.as_deref().map(Path::new), records).unwrap_or_else(|e| fail(&e.to_string()));
    let test_images = splits.test.clone(); // kept as bytes, for the picture of mistakes
    let [channels, height, width] = splits.train.image_shape();
    let classes = splits.train.classes();
    let (mut train, mut test) = (splits.train.into_dataset(), splits.test.into_dataset());
    if task.standardize {
        let scaler = Standardizer::fit(&train.inputs);
        train.inputs = scaler.transform(&train.inputs);
        test.inputs = scaler.transform(&test.inputs);
    }
    println!("{}: {} training and {} test images of {channels}×{height}×{width}", task.name, train.len(), test.len());

    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = Sequential::new();
    let mut inputs = channels * height * width;
    for (i, w) in hidden.split(',').filter(|w| !w.is_empty()).enumerate() {
        let w: usize = w.trim().parse().unwrap_or_else(|e| fail(&format!("--hidden {w:?}: {e}")));
        model = model.add(Linear::with_init(inputs, w, Init::KaimingUniform, true, &mut rng)).add(ReLU);
        if dropout > 0.0 {
            model = model.add(Dropout::new(dropout, seed + i as u64));
        }
        inputs = w;
    }
    model = model.add(Linear::new(inputs, classes.len(), &mut rng));
    println!(
        "model: {inputs_total} → {hidden} → {} (ReLU, dropout {dropout}), {} parameters",
        classes.len(),
        model.num_parameters(),
        inputs_total = channels * height * width
    );

    let mut optimizer = make_optimizer(&optimizer, model.parameters(), lr);
    let history = Fit::new(&mut model, optimizer.as_mut(), Objective::CrossEntropy)
        .epochs(epochs)
        .batch_size(batch_size)
        .shuffle(seed)
        .validation_data(&test)
        .progress(true)
        .run(&train);

    model.eval();
    let result = evaluate(&model, &test, Objective::CrossEntropy, 512);
    let mut confusion = ConfusionMatrix::new(classes.len());
    let predicted = no_grad(|| model.forward(&test.inputs));
    confusion.update(&predicted, test.targets.classes().expect("class targets"));
    println!("confusion matrix (rows: actual, columns: predicted)\n{confusion}");

    let dir = output_dir(out, task.name);
    let pictures = save_pictures(&dir, task.name, &test_images, &predicted.argmax(1, false).to_vec(), &confusion);
    history.plot_loss(&format!("{}: loss", task.name), dir.join("loss.png")).unwrap_or_else(|e| fail(&e.to_string()));
    history.write_csv(dir.join("history.csv")).unwrap_or_else(|e| fail(&e.to_string()));
    println!("wrote {}, loss.png and history.csv in {}", pictures.join(", "), dir.display());

    let seconds: f64 = history.epochs.iter().map(|r| r.seconds).sum();
    let samples = (train.len() * history.epochs.len()) as f64;
    let metrics = vec![("test_accuracy", result.metric), ("test_loss", result.loss)];
    print_final(&metrics, history.epochs.len(), seconds, samples / seconds.max(1e-9));
    metrics
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
