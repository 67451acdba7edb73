//! The TensorFlow Playground's data sets, generated as its `dataset.ts` defines them: four
//! classification patterns (circle, XOR, two Gaussians, spiral; labels ±1, exposed as classes
//! 1 and 0) and two regression surfaces (plane, multi-Gaussian; values in about [-1, 1]),
//! with the UI's noise (0–50) and train/test ratio, and its extra input features
//! (x1², x2², x1·x2, sin x1, sin x2) that let one neuron draw a circle.
//!
//! The numbers come from the caller's seeded generator, not the Playground's `seedrandom`,
//! so the points follow the same distributions and draw order but are not the web page's
//! bit for bit. The Playground plots `[-6, 6]²`: uniform patterns stay inside it (the circle
//! within radius 5, XOR within ±5.3 before noise); Gaussian tails and noisy spirals may leave it.

use std::f64::consts::PI;

use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use tapegrad_autograd::{Indices, Tensor};

use crate::dataset::{Dataset, Splits, Targets};

/// A Playground data set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// A disc of class 1 (radius < 2.5) inside a ring of class 0 (3.5 ≤ radius < 5).
    Circle,
    /// Class 1 where x1 and x2 share a sign, class 0 where they differ.
    Xor,
    /// Two Gaussian blobs, class 1 around (2, 2) and class 0 around (−2, −2).
    TwoGaussians,
    /// Two interleaved spiral arms.
    Spiral,
    /// Regression: the value rises linearly along x1 + x2.
    Plane,
    /// Regression: six Gaussian bumps of alternating sign.
    MultiGaussian,
}

impl Pattern {
    /// Every pattern, classification first, in the Playground's order.
    pub const ALL: [Pattern; 6] =
        [Pattern::Circle, Pattern::Xor, Pattern::TwoGaussians, Pattern::Spiral, Pattern::Plane, Pattern::MultiGaussian];

    /// Whether labels are classes (else values).
    pub fn is_classification(self) -> bool {
        !matches!(self, Pattern::Plane | Pattern::MultiGaussian)
    }

    /// The Playground's sample count: 500 to classify, 1200 to regress.
    pub fn default_samples(self) -> usize {
        if self.is_classification() { 500 } else { 1200 }
    }

    /// `num_samples` points as `dataset.ts` generates them, `noise` being the UI's value
    /// divided by 100 (0 to 0.5). Classification patterns give the two classes
    /// `⌈n/2⌉` and `⌊n/2⌋` points (for XOR and noisy circles, the label is where the noisy
    /// point falls), in generation order; [`Playground`] shuffles and splits them.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use tapegrad_datasets::Pattern;
    /// let points = Pattern::Spiral.generate(100, 0.0, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert_eq!(points.len(), 100);
    /// assert_eq!(points.iter().filter(|p| p.label > 0.0).count(), 50);
    /// ```
    pub fn generate(self, num_samples: usize, noise: f64, rng: &mut impl Rng) -> Vec<Point> {
        let halves = [num_samples.div_ceil(2), num_samples / 2];
        let mut points = Vec::with_capacity(num_samples);
        match self {
            Pattern::Circle => {
                let radius = 5.0;
                let label = |x: f64, y: f64| if x.hypot(y) < radius * 0.5 { 1.0 } else { -1.0 };
                for (count, (r_low, r_high)) in halves.into_iter().zip([(0.0, radius * 0.5), (radius * 0.7, radius)]) {
                    for _ in 0..count {
                        let r = uniform(rng, r_low, r_high);
                        let angle = uniform(rng, 0.0, 2.0 * PI);
                        let (x, y) = (r * angle.sin(), r * angle.cos());
                        let (nx, ny) = (uniform(rng, -radius, radius) * noise, uniform(rng, -radius, radius) * noise);
                        points.push(Point { x1: x, x2: y, label: label(x + nx, y + ny) });
                    }
                }
            }
            Pattern::Xor => {
                let padding = 0.3;
                for _ in 0..num_samples {
                    let mut x = uniform(rng, -5.0, 5.0);
                    x += if x > 0.0 { padding } else { -padding };
                    let mut y = uniform(rng, -5.0, 5.0);
                    y += if y > 0.0 { padding } else { -padding };
                    let (nx, ny) = (uniform(rng, -5.0, 5.0) * noise, uniform(rng, -5.0, 5.0) * noise);
                    let label = if (x + nx) * (y + ny) >= 0.0 { 1.0 } else { -1.0 };
                    points.push(Point { x1: x, x2: y, label });
                }
            }
            Pattern::TwoGaussians => {
                // d3.scale.linear().domain([0, .5]).range([0.5, 4]): noise 0 → 0.5, 0.5 → 4.
                let variance = 0.5 + noise * 7.0;
                for (count, (centre, label)) in halves.into_iter().zip([(2.0, 1.0), (-2.0, -1.0)]) {
                    for _ in 0..count {
                        let x = normal(rng, centre, variance);
                        let y = normal(rng, centre, variance);
                        points.push(Point { x1: x, x2: y, label });
                    }
                }
            }
            Pattern::Spiral => {
                let n = num_samples as f64 / 2.0;
                for (count, (delta, label)) in halves.into_iter().zip([(0.0, 1.0), (PI, -1.0)]) {
                    for i in 0..count {
                        let r = i as f64 / n * 5.0;
                        let t = 1.75 * i as f64 / n * 2.0 * PI + delta;
                        let x = r * t.sin() + uniform(rng, -1.0, 1.0) * noise;
                        let y = r * t.cos() + uniform(rng, -1.0, 1.0) * noise;
                        points.push(Point { x1: x, x2: y, label });
                    }
                }
            }
            Pattern::Plane | Pattern::MultiGaussian => {
                let radius = 6.0;
                for _ in 0..num_samples {
                    let (x, y) = (uniform(rng, -radius, radius), uniform(rng, -radius, radius));
                    let (nx, ny) = (uniform(rng, -radius, radius) * noise, uniform(rng, -radius, radius) * noise);
                    let label = if self == Pattern::Plane { (x + nx + y + ny) / 10.0 } else { bumps(x + nx, y + ny) };
                    points.push(Point { x1: x, x2: y, label });
                }
            }
        }
        points
    }
}

/// A point of the plane with its label: ±1 for classification patterns, a value for
/// regression ones.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// The first coordinate (the Playground's x).
    pub x1: f64,
    /// The second coordinate (the Playground's y).
    pub x2: f64,
    /// The label as the Playground has it.
    pub label: f64,
}

/// An input the Playground offers the network, computed from a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// x1.
    X1,
    /// x2.
    X2,
    /// x1².
    X1Squared,
    /// x2².
    X2Squared,
    /// x1·x2.
    X1X2,
    /// sin x1.
    SinX1,
    /// sin x2.
    SinX2,
}

impl Feature {
    /// Every feature, in the Playground's order.
    pub const ALL: [Feature; 7] = [
        Feature::X1,
        Feature::X2,
        Feature::X1Squared,
        Feature::X2Squared,
        Feature::X1X2,
        Feature::SinX1,
        Feature::SinX2,
    ];

    /// The Playground's label for it.
    pub fn name(self) -> &'static str {
        match self {
            Feature::X1 => "X1",
            Feature::X2 => "X2",
            Feature::X1Squared => "X1²",
            Feature::X2Squared => "X2²",
            Feature::X1X2 => "X1X2",
            Feature::SinX1 => "sin(X1)",
            Feature::SinX2 => "sin(X2)",
        }
    }

    /// Its value at `(x1, x2)`.
    ///
    /// ```
    /// use tapegrad_datasets::Feature;
    /// assert_eq!(Feature::X1X2.of(2.0, 3.0), 6.0);
    /// assert_eq!(Feature::X2Squared.of(2.0, 3.0), 9.0);
    /// ```
    pub fn of(self, x1: f64, x2: f64) -> f64 {
        match self {
            Feature::X1 => x1,
            Feature::X2 => x2,
            Feature::X1Squared => x1 * x1,
            Feature::X2Squared => x2 * x2,
            Feature::X1X2 => x1 * x2,
            Feature::SinX1 => x1.sin(),
            Feature::SinX2 => x2.sin(),
        }
    }
}

/// The features of each point as rows: `[points.len(), features.len()]`.
///
/// ```
/// use tapegrad_datasets::{Feature, Point, feature_matrix};
/// let p = [Point { x1: 1.0, x2: -2.0, label: 1.0 }];
/// let m = feature_matrix(&p, &[Feature::X1Squared, Feature::X2Squared, Feature::X1X2]);
/// assert_eq!(m.to_vec(), vec![1.0, 4.0, -2.0]);
/// ```
pub fn feature_matrix(points: &[Point], features: &[Feature]) -> Tensor<f32> {
    let values = points.iter().flat_map(|p| features.iter().map(|f| f.of(p.x1, p.x2) as f32)).collect();
    Tensor::from_vec(values, &[points.len(), features.len()]).expect("one value per point and feature")
}

/// Points as a data set: `features` as inputs; classes (label > 0 → 1, else 0) if
/// `classification`, else the labels as values `[n, 1]`.
///
/// ```
/// use tapegrad_datasets::{Feature, Point, to_dataset};
/// let p = [Point { x1: 1.0, x2: 2.0, label: -1.0 }, Point { x1: 0.0, x2: 0.5, label: 1.0 }];
/// let data = to_dataset(&p, &[Feature::X1, Feature::X2], true);
/// assert_eq!(data.targets.classes().unwrap().to_vec(), vec![0, 1]);
/// ```
pub fn to_dataset(points: &[Point], features: &[Feature], classification: bool) -> Dataset {
    let inputs = feature_matrix(points, features);
    let targets = if classification {
        let classes = points.iter().map(|p| usize::from(p.label > 0.0)).collect();
        Targets::Classes(Indices::new(classes, &[points.len()]).expect("one per point"))
    } else {
        let values = points.iter().map(|p| p.label as f32).collect();
        Targets::Values(Tensor::from_vec(values, &[points.len(), 1]).expect("one per point"))
    };
    Dataset::new(inputs, targets).expect("one target per point")
}

/// The Playground's data panel: a pattern, its sample count, noise, train/test ratio and
/// seed.
///
/// ```
/// use tapegrad_datasets::{Feature, Pattern, Playground};
/// let sets = Playground::new(Pattern::Circle).noise(10).train_percent(50).seed(3);
/// let data = sets.datasets(&[Feature::X1Squared, Feature::X2Squared]);
/// assert_eq!((data.train.len(), data.test.len()), (250, 250));
/// assert_eq!(data.train.inputs.shape(), &[250, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Playground {
    pattern: Pattern,
    samples: usize,
    noise: u32,
    train_percent: u32,
    seed: u64,
}

impl Playground {
    /// The pattern with the Playground's defaults: its sample count, noise 0, 50% training
    /// data, seed 0.
    pub fn new(pattern: Pattern) -> Playground {
        Playground { pattern, samples: pattern.default_samples(), noise: 0, train_percent: 50, seed: 0 }
    }

    /// The number of points, train and test together.
    pub fn samples(mut self, samples: usize) -> Playground {
        self.samples = samples;
        self
    }

    /// The noise slider, 0 to 50.
    ///
    /// # Panics
    /// If `noise` is above 50.
    #[track_caller]
    pub fn noise(mut self, noise: u32) -> Playground {
        assert!(noise <= 50, "Playground::noise: {noise} is outside the Playground's range 0 to 50");
        self.noise = noise;
        self
    }

    /// The "ratio of training to test data" slider, in percent.
    ///
    /// # Panics
    /// If `percent` is above 100.
    #[track_caller]
    pub fn train_percent(mut self, percent: u32) -> Playground {
        assert!(percent <= 100, "Playground::train_percent: {percent}% is more than all of the data");
        self.train_percent = percent;
        self
    }

    /// The seed all points are drawn from.
    pub fn seed(mut self, seed: u64) -> Playground {
        self.seed = seed;
        self
    }

    /// The pattern.
    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    /// The points, generated, shuffled and split as the Playground does: the first
    /// `⌊n · percent / 100⌋` shuffled points train, the rest test.
    ///
    /// ```
    /// use tapegrad_datasets::{Pattern, Playground};
    /// let points = Playground::new(Pattern::Plane).train_percent(80).seed(2).points();
    /// assert_eq!((points.train.len(), points.test.len()), (960, 240));
    /// assert_eq!(points, Playground::new(Pattern::Plane).train_percent(80).seed(2).points());
    /// ```
    pub fn points(&self) -> Splits<Vec<Point>> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut points = self.pattern.generate(self.samples, self.noise as f64 / 100.0, &mut rng);
        shuffle(&mut points, &mut rng);
        let test = points.split_off(points.len() * self.train_percent as usize / 100);
        Splits { train: points, test }
    }

    /// The points as data sets with `features` as inputs (see [`to_dataset`]).
    pub fn datasets(&self, features: &[Feature]) -> Splits<Dataset> {
        let classification = self.pattern.is_classification();
        self.points().map(|p| to_dataset(&p, features, classification))
    }
}

/// `dataset.ts`'s `shuffle`: Fisher–Yates from the back, as the Playground draws it.
fn shuffle<T>(items: &mut [T], rng: &mut impl Rng) {
    for counter in (1..=items.len()).rev() {
        let index = (rng.random::<f64>() * counter as f64) as usize;
        items.swap(counter - 1, index.min(counter - 1));
    }
}

/// `randUniform(a, b)`: uniform on `[a, b)`.
fn uniform(rng: &mut impl Rng, a: f64, b: f64) -> f64 {
    rng.random::<f64>() * (b - a) + a
}

/// `normalRandom(mean, variance)`: Marsaglia's polar method, as `dataset.ts`.
fn normal(rng: &mut impl Rng, mean: f64, variance: f64) -> f64 {
    loop {
        let v1 = 2.0 * rng.random::<f64>() - 1.0;
        let v2 = 2.0 * rng.random::<f64>() - 1.0;
        let s = v1 * v1 + v2 * v2;
        // s = 0 would divide by zero (dataset.ts does not guard it; it never happens there
        // in practice either).
        if s <= 1.0 && s > 0.0 {
            return mean + variance.sqrt() * (-2.0 * s.ln() / s).sqrt() * v1;
        }
    }
}

/// `regressGaussian`'s label: of six bumps, the signed value largest in magnitude, each bump
/// falling linearly from 1 at its centre to 0 at distance 2.
fn bumps(x: f64, y: f64) -> f64 {
    const CENTRES: [(f64, f64, f64); 6] =
        [(-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0), (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0)];
    let mut label: f64 = 0.0;
    for (cx, cy, sign) in CENTRES {
        let value = sign * (1.0 - (x - cx).hypot(y - cy) / 2.0).clamp(0.0, 1.0);
        if value.abs() > label.abs() {
            label = value;
        }
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_peak_at_their_centres_and_vanish_between() {
        assert_eq!(bumps(-4.0, 2.5), 1.0);
        assert_eq!(bumps(0.0, 2.5), -1.0);
        assert_eq!(bumps(0.0, -2.5), 1.0);
        assert_eq!(bumps(-2.0, 0.0), 0.0); // more than 2 from every centre
        assert_eq!(bumps(4.0, -1.5), -0.5);
    }

    #[test]
    fn shuffle_keeps_every_item() {
        let mut items: Vec<usize> = (0..100).collect();
        shuffle(&mut items, &mut StdRng::seed_from_u64(1));
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn normal_has_the_asked_variance() {
        let mut rng = StdRng::seed_from_u64(5);
        let xs: Vec<f64> = (0..20_000).map(|_| normal(&mut rng, 2.0, 4.0)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!((mean - 2.0).abs() < 0.05 && (var - 4.0).abs() < 0.15, "mean {mean}, variance {var}");
    }
}
