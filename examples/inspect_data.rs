//! Loads a data set from a folder and prints its sizes and first labels: a quick check that
//! files placed by hand are complete.
//!
//! ```sh
//! cargo run --release --example inspect_data -- mnist path/to/mnist
//! ```
//! Sets: `mnist`, `fashion-mnist`, `cifar-10`, `california-housing`.

use std::process::ExitCode;

use tapegrad::datasets::{CaliforniaHousing, Cifar10, DataError, FashionMnist, ImageSet, Mnist, Splits};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [set, dir] = args.as_slice() else {
        eprintln!("usage: inspect_data <mnist|fashion-mnist|cifar-10|california-housing> <folder>");
        return ExitCode::FAILURE;
    };
    match inspect(set, dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn inspect(set: &str, dir: &str) -> Result<(), DataError> {
    let images = match set {
        "mnist" => Mnist::load(dir)?,
        "fashion-mnist" => FashionMnist::load(dir)?,
        "cifar-10" => Cifar10::load(dir)?,
        "california-housing" => {
            let table = CaliforniaHousing::load(dir)?;
            println!("{} rows; first row {:?} → {}", table.len(), table.row(0), table.target()[0]);
            return Ok(());
        }
        other => {
            eprintln!("unknown data set {other:?}");
            return Ok(());
        }
    };
    let Splits { train, test } = images;
    for (name, part) in [("train", &train), ("test", &test)] {
        println!("{name}: {} images of {:?}; first labels {:?}", part.len(), part.image_shape(), first_labels(part));
    }
    Ok(())
}

fn first_labels(set: &ImageSet) -> Vec<&str> {
    set.labels().iter().take(10).map(|&l| set.classes()[l as usize]).collect()
}
