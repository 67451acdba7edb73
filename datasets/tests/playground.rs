//! The Playground's generators: counts, class balance, seeds, noise, the [-6, 6]² frame,
//! the train/test ratio, and the circle made linear by x1² and x2².

use rand::SeedableRng;
use rand::rngs::StdRng;
use tapegrad_autograd::Tensor;
use tapegrad_datasets::{Feature, Pattern, Playground, Point, feature_matrix};

fn points(pattern: Pattern, n: usize, noise: f64, seed: u64) -> Vec<Point> {
    pattern.generate(n, noise, &mut StdRng::seed_from_u64(seed))
}

fn positives(points: &[Point]) -> usize {
    points.iter().filter(|p| p.label > 0.0).count()
}

#[test]
fn every_generator_gives_the_requested_count() {
    for pattern in Pattern::ALL {
        for n in [0, 1, 7, 500, 1200] {
            assert_eq!(points(pattern, n, 0.25, 1).len(), n, "{pattern:?} with {n}");
        }
    }
}

#[test]
fn classes_are_balanced_as_in_the_playground() {
    // Gaussians and spirals: exactly half each, whatever the noise.
    for pattern in [Pattern::TwoGaussians, Pattern::Spiral] {
        assert_eq!(positives(&points(pattern, 500, 0.5, 2)), 250, "{pattern:?}");
        assert_eq!(positives(&points(pattern, 7, 0.0, 2)), 4, "{pattern:?} gives ⌈7/2⌉ to class 1");
    }
    // The circle: half inside, half outside when there is no noise to move them.
    assert_eq!(positives(&points(Pattern::Circle, 500, 0.0, 3)), 250);
    // XOR: the quadrant decides, so about half.
    let xor = positives(&points(Pattern::Xor, 2000, 0.0, 4));
    assert!((900..1100).contains(&xor), "{xor} of 2000 XOR points in class 1");
    // Without noise every label is where the point is.
    for p in points(Pattern::Xor, 500, 0.0, 5) {
        assert_eq!(p.label > 0.0, p.x1 * p.x2 >= 0.0);
    }
}

#[test]
fn the_same_seed_gives_the_same_points_and_another_seed_others() {
    for pattern in Pattern::ALL {
        let a = points(pattern, 100, 0.2, 9);
        assert_eq!(a, points(pattern, 100, 0.2, 9), "{pattern:?}");
        assert_ne!(a, points(pattern, 100, 0.2, 10), "{pattern:?}");
    }
    let split = |seed| Playground::new(Pattern::Xor).seed(seed).noise(20).points();
    assert_eq!(split(1), split(1));
    assert_ne!(split(1).train, split(2).train);
}

fn spread(points: &[Point]) -> f64 {
    // Mean squared distance from each class's mean.
    let mut total = 0.0;
    for class in [true, false] {
        let members: Vec<&Point> = points.iter().filter(|p| (p.label > 0.0) == class).collect();
        let (mx, my) = members.iter().fold((0.0, 0.0), |(x, y), p| (x + p.x1, y + p.x2));
        let (mx, my) = (mx / members.len() as f64, my / members.len() as f64);
        total += members.iter().map(|p| (p.x1 - mx).powi(2) + (p.x2 - my).powi(2)).sum::<f64>();
    }
    total / points.len() as f64
}

#[test]
fn noise_widens_the_spread() {
    // Two Gaussians: variance 0.5 per axis without noise, 4 at noise 50.
    let (calm, noisy) =
        (spread(&points(Pattern::TwoGaussians, 4000, 0.0, 6)), spread(&points(Pattern::TwoGaussians, 4000, 0.5, 6)));
    assert!((calm - 1.0).abs() < 0.1 && (noisy - 8.0).abs() < 0.8, "spreads {calm} and {noisy}");
    // Spiral: noise moves points off the arms.
    let arms = |noise| {
        let clean = points(Pattern::Spiral, 400, 0.0, 7);
        let moved = points(Pattern::Spiral, 400, noise, 7);
        clean.iter().zip(&moved).map(|(a, b)| (a.x1 - b.x1).hypot(a.x2 - b.x2)).sum::<f64>() / 400.0
    };
    assert!(arms(0.0) == 0.0 && arms(0.5) > 0.2, "{} {}", arms(0.0), arms(0.5));
    // Regression: noise makes the label disagree with the point's own position.
    let off = |noise| {
        points(Pattern::Plane, 1000, noise, 8).iter().map(|p| (p.label - (p.x1 + p.x2) / 10.0).abs()).sum::<f64>()
    };
    assert_eq!(off(0.0), 0.0);
    assert!(off(0.3) > 100.0);
    // The circle: noise puts some labels on the wrong side.
    assert_ne!(positives(&points(Pattern::Circle, 500, 0.5, 3)), 250);
}

#[test]
fn uniform_patterns_stay_in_the_playground_frame() {
    for pattern in [Pattern::Circle, Pattern::Xor, Pattern::Plane, Pattern::MultiGaussian] {
        for p in points(pattern, 1000, 0.5, 11) {
            assert!(p.x1.abs() <= 6.0 && p.x2.abs() <= 6.0, "{pattern:?}: {p:?}");
        }
    }
    for p in points(Pattern::Circle, 1000, 0.0, 12) {
        let r = p.x1.hypot(p.x2);
        assert!(if p.label > 0.0 { r < 2.5 } else { (3.5..5.0).contains(&r) }, "{p:?}");
    }
    for p in points(Pattern::MultiGaussian, 1000, 0.0, 13) {
        assert!((-1.0..=1.0).contains(&p.label));
    }
}

#[test]
fn the_train_ratio_splits_the_shuffled_points() {
    let sets = Playground::new(Pattern::Spiral).train_percent(70).noise(30).seed(4).points();
    assert_eq!((sets.train.len(), sets.test.len()), (350, 150));
    // Shuffled: both classes on each side.
    assert!(positives(&sets.test) > 30 && positives(&sets.test) < 120);
    let regression = Playground::new(Pattern::MultiGaussian).datasets(&[Feature::X1, Feature::X2]);
    assert_eq!((regression.train.len(), regression.test.len()), (600, 600));
    assert_eq!(regression.train.targets.values().unwrap().shape(), &[600, 1]);
}

#[test]
fn x1_and_x2_squared_make_the_circle_linear() {
    let sets = Playground::new(Pattern::Circle).train_percent(100).seed(21).points();
    let features = feature_matrix(&sets.train, &[Feature::X1Squared, Feature::X2Squared]);
    // The linear rule 9 − x1² − x2² > 0 (radius 3, between the disc and the ring) is exact.
    let rows = features.to_vec();
    for (p, f) in sets.train.iter().zip(rows.chunks(2)) {
        assert_eq!(9.0 - f[0] - f[1] > 0.0, p.label > 0.0, "{p:?}");
    }
}

#[test]
fn one_neuron_learns_the_circle_from_x1_and_x2_squared() {
    let data =
        Playground::new(Pattern::Circle).train_percent(100).seed(5).datasets(&[Feature::X1Squared, Feature::X2Squared]);
    let x = data.train.inputs;
    let y: Vec<f32> = data.train.targets.classes().unwrap().as_slice().iter().map(|&c| c as f32).collect();
    let y = Tensor::from_vec(y, &[x.shape()[0], 1]).unwrap();
    let w = Tensor::<f32>::zeros(&[2, 1]).requires_grad();
    let b = Tensor::<f32>::zeros(&[1]).requires_grad();
    for _ in 0..300 {
        // Logistic regression: mean binary cross-entropy through softplus, −y·z + softplus(z).
        let z = x.matmul(&w) + &b;
        let loss = (z.softplus() - &z * &y).mean();
        loss.backward();
        for p in [&w, &b] {
            let g = p.grad().unwrap().to_vec();
            p.update_data(|v| v.iter_mut().zip(&g).for_each(|(v, g)| *v -= 0.5 * g));
            p.zero_grad();
        }
    }
    let z = (x.matmul(&w) + &b).to_vec();
    let correct = z.iter().zip(y.to_vec()).filter(|(z, y)| (**z > 0.0) == (*y > 0.5)).count();
    assert_eq!(correct, z.len(), "one neuron on x1², x2² should separate every point");
}

#[test]
fn features_are_the_playgrounds() {
    let p = [Point { x1: 0.5, x2: -2.0, label: 1.0 }];
    let m = feature_matrix(&p, &Feature::ALL).to_vec();
    let expected = [0.5, -2.0, 0.25, 4.0, -1.0, 0.5f64.sin() as f32, (-2.0f64).sin() as f32];
    assert_eq!(m, expected);
    let names: Vec<&str> = Feature::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["X1", "X2", "X1²", "X2²", "X1X2", "sin(X1)", "sin(X2)"]);
}

#[test]
#[should_panic(expected = "Playground::noise: 60 is outside the Playground's range 0 to 50")]
fn noise_above_fifty_is_refused() {
    let _ = Playground::new(Pattern::Circle).noise(60);
}
