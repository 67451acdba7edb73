//! The plotting module through its public API: every plot kind renders, encodes to PNG
//! bytes that a decoder of the tests' own (written apart from the encoder) reads back
//! pixel for pixel, and saves to a file.
//!
//! The ignored tests render one example of each kind to `<temp dir>/plot-samples/` for a
//! person to look at: `cargo test --test plot -- --ignored`.

#[path = "support/png_decoder.rs"]
mod png_decoder;

use tapegrad::plot::*;

fn samples_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("plot-samples");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The image in PNG `bytes`, read by the tests' own decoder.
fn decode(bytes: &[u8]) -> Image {
    let (width, height, pixels) = png_decoder::decode_rgb(bytes);
    Image::from_pixels(width, height, pixels)
}

fn every_kind() -> Vec<(&'static str, Image)> {
    let chart =
        LineChart::new().title("loss").log_y().series_y("train", &[2.3, 0.9, 0.3]).series_y("test", &[2.2, 1.0]);
    let boundary = DecisionBoundary::new((-1.0, 1.0), (-1.0, 1.0));
    let outputs: Vec<f64> = boundary.grid_points(10, 10).iter().map(|&(x, y)| f64::from(x * y > 0.0)).collect();
    let boundary = boundary.surface(10, 10, &outputs).points(&[(0.5, 0.5, 1, false), (-0.5, 0.5, 0, true)]);
    let mut grid = ImageGrid::new(2);
    grid.push_gray(3, 3, &[0, 255, 0, 255, 0, 255, 0, 255, 0], "7->2");
    grid.push_weights(2, 2, &[-1.0f32, 0.0, 0.5, 1.0], Colormap::Diverging, "w");
    let confusion = ConfusionHeatmap::new(2, &[9, 1, 2, 8]).labels(&["no", "yes"]);
    vec![
        ("chart", chart.render()),
        ("boundary", boundary.render()),
        ("grid", grid.render()),
        ("confusion", confusion.render()),
    ]
}

#[test]
fn every_plot_kind_round_trips_through_png() {
    for (name, image) in every_kind() {
        let decoded = decode(&image.to_png_bytes());
        assert_eq!((decoded.width(), decoded.height()), (image.width(), image.height()), "{name}");
        assert!(decoded == image, "{name}: decoded pixels differ");
        assert!(image.pixels().iter().any(|&p| p != color::WHITE), "{name} is not blank");
    }
}

#[test]
fn every_plot_kind_saves_to_a_file() {
    let dir = std::env::temp_dir().join(format!("tapegrad-plot-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, image) in every_kind() {
        let path = dir.join(format!("{name}.png"));
        image.save_png(&path).unwrap();
        assert_eq!(decode(&std::fs::read(&path).unwrap()), image, "{name}");
    }
    let mut left: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    left.sort();
    assert_eq!(left, ["boundary.png", "chart.png", "confusion.png", "grid.png"], "no temporary files left");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn saving_into_a_missing_directory_names_the_path() {
    let path = std::env::temp_dir().join("tapegrad-no-such-dir").join("loss.png");
    let error = LineChart::new().series_y("loss", &[1.0, 0.5]).save_png(&path).unwrap_err();
    assert_eq!(error.path(), path);
    assert!(error.to_string().contains("tapegrad-no-such-dir"), "{error}");
}

#[test]
#[ignore = "writes sample images for a person to look at"]
fn render_samples() {
    let dir = samples_dir();
    let epochs = 30;
    let train: Vec<f64> =
        (0..epochs).map(|e| 2.3 * (-0.18 * e as f64).exp() + 0.02 + 0.01 * ((e * 7 % 5) as f64)).collect();
    let test: Vec<f64> = (0..epochs)
        .map(|e| 2.2 * (-0.2 * e as f64).exp() + 0.09 + 0.0004 * (e as f64 - 8.0).max(0.0).powi(2))
        .collect();
    LineChart::new()
        .title("MNIST MLP: loss")
        .x_label("epoch")
        .y_label("cross-entropy loss")
        .log_y()
        .series_y("train", &train)
        .series_y("test", &test)
        .save_png(dir.join("chart_loss.png"))
        .unwrap();
    // Per-step losses: thousands of noisy points, a running mean, and a blow-up to NaN.
    let mut noise = 0.5f64;
    let raw: Vec<(f64, f64)> = (0..3000)
        .map(|s| {
            noise = (noise * 9301.0 + 0.4929).fract();
            let loss = 0.002 + 0.03 * (-(s as f64) / 600.0).exp() * (0.6 + 0.8 * noise);
            (s as f64, if (2400..2420).contains(&s) { f64::NAN } else { loss })
        })
        .collect();
    let mut mean = raw[0].1;
    let smooth: Vec<(f64, f64)> = raw
        .iter()
        .map(|&(s, l)| {
            if l.is_finite() {
                mean = 0.98 * mean + 0.02 * l;
            }
            (s, mean)
        })
        .collect();
    LineChart::new()
        .title("per-step loss, learning rate 3e-4")
        .x_label("step")
        .y_label("MSE")
        .series("raw", &raw)
        .series("running mean", &smooth)
        .save_png(dir.join("chart_steps.png"))
        .unwrap();
    let acc: Vec<f64> = (0..epochs).map(|e| 1.0 - 0.9 * (-0.3 * e as f64).exp()).collect();
    let mut acc_test = acc.iter().map(|a| a - 0.03).collect::<Vec<_>>();
    acc_test[7] = f64::NAN;
    LineChart::new()
        .title("accuracy")
        .x_label("epoch")
        .y_label("accuracy")
        .y_range(0.0, 1.0)
        .series_y("train", &acc)
        .series_y("test", &acc_test)
        .save_png(dir.join("chart_accuracy.png"))
        .unwrap();
}

/// Two interleaved spirals, like the Playground's hardest data set, and a made-up smooth
/// "network output" that roughly separates them.
#[test]
#[ignore = "writes sample images for a person to look at"]
fn render_boundary_sample() {
    let dir = samples_dir();
    let mut points = Vec::new();
    for i in 0..120 {
        let r = i as f64 / 120.0 * 5.0;
        for class in 0..2 {
            let t = 1.75 * i as f64 / 120.0 * 2.0 * std::f64::consts::PI + class as f64 * std::f64::consts::PI;
            let jitter = ((i * 7919 + class * 31) % 100) as f64 / 100.0 - 0.5;
            points.push((r * t.sin() + 0.3 * jitter, r * t.cos() - 0.3 * jitter, class, i % 5 == 0));
        }
    }
    let plot = DecisionBoundary::new((-6.0, 6.0), (-6.0, 6.0)).title("spiral: test loss 0.081");
    let outputs: Vec<f32> = plot
        .grid_points(60, 60)
        .iter()
        .map(|&(x, y)| {
            // Points sit at angle pi/2 - t for t = 1.75 * 2pi * r / 5 (+ pi for class 1).
            let (r, a) = ((x * x + y * y).sqrt(), y.atan2(x));
            let phase = (1.75 * 2.0 * std::f64::consts::PI * r / 5.0 - std::f64::consts::FRAC_PI_2 + a).cos();
            (1.0 / (1.0 + (3.0 * phase).exp())) as f32
        })
        .collect();
    plot.surface(60, 60, &outputs).points(&points).save_png(dir.join("boundary_spiral.png")).unwrap();
    let regression = DecisionBoundary::new((-6.0, 6.0), (-4.0, 4.0)).title("regression: x*y/10");
    let out: Vec<f64> = regression.grid_points(40, 40).iter().map(|&(x, y)| x * y / 10.0).collect();
    let targets: Vec<(f64, f64, f64, bool)> = (0..60)
        .map(|i| ((i % 12) as f64 - 5.5, (i / 12) as f64 * 1.6 - 3.2, 0.0, i % 4 == 0))
        .map(|(x, y, _, t)| (x, y, x * y / 10.0 + 0.4 * (((x * 13.0 + y * 7.0) as i64 % 5) as f64 / 5.0 - 0.4), t))
        .collect();
    regression.surface(40, 40, &out).regression_points(&targets).save_png(dir.join("boundary_regression.png")).unwrap();
}

/// A synthetic "digit": a ring or a bar, so the grid shows recognizable shapes.
fn fake_digit(kind: usize) -> Vec<u8> {
    let mut pixels = vec![0u8; 28 * 28];
    for y in 0..28 {
        for x in 0..28 {
            let (dx, dy) = (x as f64 - 13.5, y as f64 - 13.5);
            let on = match kind % 3 {
                0 => ((dx * dx + dy * dy).sqrt() - 8.0).abs() < 2.2,
                1 => dx.abs() < 2.0 && dy.abs() < 10.0,
                _ => (dy + 0.8 * dx).abs() < 2.2 && dy.abs() < 10.0 || (dy + 9.0).abs() < 2.0 && dx.abs() < 7.0,
            };
            if on {
                pixels[y * 28 + x] = 255;
            }
        }
    }
    pixels
}

#[test]
#[ignore = "writes sample images for a person to look at"]
fn render_grid_and_heatmap_samples() {
    let dir = samples_dir();
    let mut digits = ImageGrid::new(8).title("misclassified test digits (true->predicted)");
    let captions = ["0->6", "1->7", "7->2", "0->8", "1->4", "7->1", "0->2", "1->8", "7->9", "0->5", "1->2", "7->3"];
    for (i, caption) in captions.iter().enumerate() {
        digits.push_gray(28, 28, &fake_digit(i), caption);
    }
    digits.save_png(dir.join("grid_digits.png")).unwrap();

    let mut cifar = ImageGrid::new(6).scale(3).title("CIFAR-10 samples");
    for (i, name) in ["airplane", "automobile", "bird", "cat", "deer", "dog"].iter().enumerate() {
        let planes: Vec<u8> = (0..3)
            .flat_map(|c| (0..32 * 32).map(move |p| ((p % 32) * 8 * (c + 1) / 3 + (p / 32) * 4 + i * 30) as u8))
            .collect();
        cifar.push_rgb_planes(32, 32, &planes, name);
    }
    cifar.save_png(dir.join("grid_cifar.png")).unwrap();

    let mut filters = ImageGrid::new(8).scale(4).title("first-layer weights");
    for k in 0..16 {
        let w: Vec<f32> = (0..28 * 28)
            .map(|p| {
                let (x, y) = ((p % 28) as f32 - 13.5, (p / 28) as f32 - 13.5);
                let angle = k as f32 * 0.4;
                ((x * angle.cos() + y * angle.sin()) * 0.35).sin() * (-(x * x + y * y) / 120.0).exp() * 0.05
            })
            .collect();
        filters.push_weights(28, 28, &w, Colormap::Diverging, &format!("unit {k}"));
    }
    filters.save_png(dir.join("grid_weights.png")).unwrap();

    let classes = 10;
    let mut counts = vec![0u64; classes * classes];
    for a in 0..classes {
        for p in 0..classes {
            counts[a * classes + p] =
                if a == p { 950 + (a as u64 * 37) % 180 } else { ((a * 7 + p * 3) % 11) as u64 * ((a + p) % 3) as u64 };
        }
    }
    counts[4 * classes + 9] = 41;
    counts[9 * classes + 4] = 35;
    ConfusionHeatmap::new(classes, &counts).title("MNIST test confusion").save_png(dir.join("confusion.png")).unwrap();
}
