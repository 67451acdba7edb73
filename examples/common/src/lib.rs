//! What the examples share: reading `--flag value` arguments, printing the `final:` line
//! that scripts read, and the image classifiers' runner. A crate of its own (not a `mod`
//! in every example) so that this code, and the generic training code it instantiates, is
//! compiled once rather than into each of the examples.

pub mod images;

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// Command-line flags: `--name value` or `--name=value`; `--help` prints the usage.
pub struct Flags {
    given: BTreeMap<String, String>,
    known: Vec<(String, String, String)>,
    usage: &'static str,
}

impl Flags {
    /// Flags from `args` (the process's arguments after the program's name), for an
    /// example described by `usage`.
    pub fn parse(usage: &'static str, args: Vec<String>) -> Flags {
        let mut given = BTreeMap::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                fail(&format!("unexpected argument {arg:?} (flags look like --name value)"))
            };
            let (name, value) = match name.split_once('=') {
                Some((n, v)) => (n.to_string(), v.to_string()),
                None if name == "help" => ("help".to_string(), String::new()),
                None => (name.to_string(), args.next().unwrap_or_else(|| fail(&format!("--{name} needs a value")))),
            };
            given.insert(name, value);
        }
        Flags { given, known: Vec::new(), usage }
    }

    /// The value of `--name`, or `default`.
    pub fn get<T: FromStr + Display>(&mut self, name: &str, default: T, help: &str) -> T
    where
        T::Err: Display,
    {
        match self.given_value(name, default.to_string(), help) {
            None => default,
            Some(v) => v.parse().unwrap_or_else(|e| fail(&format!("--{name} {v:?}: {e}"))),
        }
    }

    // The part of `get` that does not depend on T, compiled once in this crate.
    fn given_value(&mut self, name: &str, default: String, help: &str) -> Option<&str> {
        self.known.push((name.to_string(), default, help.to_string()));
        self.given.get(name).map(String::as_str)
    }

    /// The value of `--name` if given.
    pub fn optional(&mut self, name: &str, help: &str) -> Option<String> {
        self.given_value(name, "(none)".to_string(), help).map(str::to_string)
    }

    /// Stops with the usage if `--help` was given, or with an error on unknown flags.
    pub fn finish(&self) {
        let help = || {
            let mut text = format!("{}\n\nflags:\n", self.usage);
            for (name, default, help) in &self.known {
                text += &format!("  --{name:<16} {help} (default {default})\n");
            }
            text
        };
        if self.given.contains_key("help") {
            print!("{}", help());
            std::process::exit(0);
        }
        if let Some(unknown) = self.given.keys().find(|k| !self.known.iter().any(|(n, _, _)| n == *k)) {
            fail(&format!("unknown flag --{unknown}\n\n{}", help()));
        }
    }
}

/// Sets the kernels' thread count from a `--threads` flag, for the whole program (0 leaves
/// it to `RAYON_NUM_THREADS`, else one per core). Call it after [`Flags::finish`].
pub fn use_threads(threads: usize) {
    if threads > 0 {
        rayon_core::ThreadPoolBuilder::new().num_threads(threads).build_global().ok();
    }
}

/// Prints `error: …` and exits with status 2.
pub fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(2)
}

/// The last line of every example, for scripts:
/// `final: test_accuracy=0.9812 test_loss=0.0612 epochs=10 seconds=41.2 samples_per_s=51234`.
pub fn print_final(metrics: &[(&str, f64)], epochs: usize, seconds: f64, samples_per_s: f64) {
    let mut line = String::from("final:");
    for (name, value) in metrics {
        line += &format!(" {name}={value:.4}");
    }
    println!("{line} epochs={epochs} seconds={seconds:.1} samples_per_s={samples_per_s:.0}");
}

/// A folder for an example's pictures, created if needed: `target/examples-output/<name>`
/// beside the build, unless `--out` names another.
pub fn output_dir(chosen: Option<String>, name: &str) -> std::path::PathBuf {
    let dir = chosen.map(std::path::PathBuf::from).unwrap_or_else(|| {
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|| "target".into());
        target.join("examples-output").join(name)
    });
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", dir.display())));
    dir
}
