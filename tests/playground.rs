//! The main job, run as the README runs it (but with fewer epochs): the Playground example
//! learns the spiral to at least 95% test accuracy, and the other sets too.

#[path = "../examples/playground.rs"]
mod playground;

fn run(flags: &[&str]) -> Vec<(&'static str, f64)> {
    // One folder per run: the tests run in parallel.
    let name = flags.join("_").replace(',', "-");
    let out = std::env::temp_dir().join(format!("tapegrad-playground-test-{}-{name}", std::process::id()));
    let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    args.extend(["--out".to_string(), out.display().to_string()]);
    let metrics = playground::run(args);
    assert!(out.join(format!("{}-boundary.png", flag(flags, "--data").unwrap_or("spiral"))).exists());
    std::fs::remove_dir_all(&out).ok();
    metrics
}

fn flag<'a>(flags: &[&'a str], name: &str) -> Option<&'a str> {
    flags.iter().position(|f| *f == name).map(|i| flags[i + 1])
}

fn metric(metrics: &[(&str, f64)], name: &str) -> f64 {
    metrics.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn the_default_run_learns_the_spiral() {
    // The default flags, with 150 epochs instead of 300.
    let metrics = run(&["--epochs", "150"]);
    let accuracy = metric(&metrics, "test_accuracy");
    assert!(accuracy >= 0.95, "spiral test accuracy {accuracy}");
}

#[test]
fn one_neuron_solves_the_circle_given_squared_inputs() {
    let metrics =
        run(&["--data", "circle", "--features", "x1sq,x2sq", "--hidden", "", "--epochs", "40", "--lr", "0.1"]);
    assert!(metric(&metrics, "test_accuracy") >= 0.98);
}

#[test]
fn regression_sets_are_fitted() {
    let metrics = run(&["--data", "plane", "--features", "x1,x2", "--hidden", "", "--epochs", "30", "--noise", "10"]);
    assert!(metric(&metrics, "test_r2") > 0.9, "plane R² {}", metric(&metrics, "test_r2"));
}
