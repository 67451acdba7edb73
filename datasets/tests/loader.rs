//! Batching and scaling: every sample once per epoch, drop_last, stochastic and full
//! batches, seeded orders, views versus gathers, splits, and scalers fitted on train only.

use proptest::prelude::*;
use tapegrad_autograd::{Indices, Tensor};
use tapegrad_datasets::{DataLoader, Dataset, MinMaxScaler, Standardizer, Targets};

/// Sample i has input row [i, 10·i] and class i (or value 2·i).
fn numbered(n: usize, classes: bool) -> Dataset {
    let inputs = Tensor::from_vec((0..n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect(), &[n, 2]).unwrap();
    let targets = if classes {
        Targets::Classes(Indices::from((0..n).collect::<Vec<_>>()))
    } else {
        Targets::Values(Tensor::from_vec((0..n).map(|i| 2.0 * i as f32).collect(), &[n, 1]).unwrap())
    };
    Dataset::new(inputs, targets).unwrap()
}

/// The samples of an epoch in the order seen, checking that inputs and targets stay paired.
fn seen(loader: &DataLoader, epoch: usize) -> Vec<Vec<usize>> {
    loader
        .epoch(epoch)
        .map(|batch| {
            let rows = batch.inputs.to_vec();
            let ids: Vec<usize> = rows.chunks(2).map(|r| r[0] as usize).collect();
            rows.chunks(2).for_each(|r| assert_eq!(r[1], 10.0 * r[0]));
            match &batch.targets {
                Targets::Classes(c) => assert_eq!(c.to_vec(), ids),
                Targets::Values(v) => assert_eq!(v.to_vec(), ids.iter().map(|&i| 2.0 * i as f32).collect::<Vec<_>>()),
            }
            assert_eq!(batch.len(), ids.len());
            ids
        })
        .collect()
}

proptest! {
    #[test]
    fn every_sample_once_per_epoch(
        n in 0usize..60, batch in 1usize..70, shuffle in proptest::option::of(any::<u64>()), classes: bool, epoch in 0usize..5
    ) {
        let data = numbered(n, classes);
        let mut loader = DataLoader::new(&data, batch);
        if let Some(seed) = shuffle {
            loader = loader.shuffle(seed);
        }
        let batches = seen(&loader, epoch);
        prop_assert_eq!(batches.len(), loader.num_batches());
        prop_assert_eq!(loader.epoch(epoch).len(), loader.num_batches());
        let mut all: Vec<usize> = batches.concat();
        if shuffle.is_none() {
            prop_assert_eq!(&all, &(0..n).collect::<Vec<_>>());
        }
        all.sort_unstable();
        prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
        // Every batch is full except possibly the last.
        let b = batch.min(n);
        for (i, ids) in batches.iter().enumerate() {
            prop_assert!(ids.len() == b || (i + 1 == batches.len() && ids.len() == n % b));
        }
    }

    #[test]
    fn drop_last_drops_only_the_remainder(n in 1usize..60, batch in 1usize..70, seed: u64) {
        let data = numbered(n, true);
        let loader = DataLoader::new(&data, batch).shuffle(seed).drop_last(true);
        let batches = seen(&loader, 0);
        let b = batch.min(n);
        prop_assert_eq!(batches.len(), n / b);
        prop_assert!(batches.iter().all(|ids| ids.len() == b));
        let mut all = batches.concat();
        all.sort_unstable();
        all.dedup();
        prop_assert_eq!(all.len(), n / b * b);
        // The same epoch without drop_last starts with the same batches.
        let full = seen(&DataLoader::new(&data, batch).shuffle(seed), 0);
        prop_assert_eq!(&full[..batches.len()], &batches[..]);
    }
}

#[test]
fn batch_size_one_is_stochastic_and_n_is_full_batch() {
    let data = numbered(9, true);
    let one = DataLoader::new(&data, 1).shuffle(3);
    assert_eq!(one.num_batches(), 9);
    assert!(seen(&one, 0).iter().all(|b| b.len() == 1));
    for size in [9, 10, 1000] {
        let full = DataLoader::new(&data, size).drop_last(true);
        assert_eq!(full.batch_size(), 9);
        assert_eq!(seen(&full, 0), vec![(0..9).collect::<Vec<_>>()]);
    }
}

#[test]
fn seeds_and_epochs_fix_the_order() {
    let data = numbered(50, true);
    let a = DataLoader::new(&data, 8).shuffle(11);
    let b = DataLoader::new(&data, 8).shuffle(11);
    assert_eq!(seen(&a, 3), seen(&b, 3), "same seed, same epoch, same order");
    assert_ne!(seen(&a, 0), seen(&a, 1), "a new order each epoch");
    assert_ne!(seen(&a, 0), seen(&DataLoader::new(&data, 8).shuffle(12), 0), "a new order for a new seed");
    assert_ne!(seen(&a, 0).concat(), (0..50).collect::<Vec<_>>(), "shuffled at all");
}

#[test]
fn in_order_batches_share_storage_and_shuffled_ones_are_gathered() {
    let data = numbered(10, false);
    let storage = data.inputs.value();
    for batch in DataLoader::new(&data, 4).epoch(0) {
        assert!(batch.inputs.value().shares_storage(&storage));
        assert!(batch.targets.values().unwrap().value().shares_storage(&data.targets.values().unwrap().value()));
    }
    for batch in DataLoader::new(&data, 4).shuffle(1).epoch(0) {
        assert!(!batch.inputs.value().shares_storage(&storage));
    }
}

#[test]
fn splits_are_disjoint_covers_and_scalers_fit_train_only() {
    // Feature 0 varies; feature 1 is constant.
    let n = 200;
    let inputs = Tensor::from_vec((0..n).flat_map(|i| [i as f32, 3.0]).collect(), &[n, 2]).unwrap();
    let data = Dataset::new(inputs, Targets::Classes(Indices::from((0..n).collect::<Vec<_>>()))).unwrap();
    let (train, valid) = data.split(0.3, 5);
    assert_eq!((train.len(), valid.len()), (140, 60));
    let mut ids = train.targets.classes().unwrap().to_vec();
    ids.extend(valid.targets.classes().unwrap().as_slice());
    ids.sort_unstable();
    assert_eq!(ids, (0..n).collect::<Vec<_>>());

    let scaler = Standardizer::fit(&train.inputs);
    let train_values: Vec<f32> = train.inputs.to_vec().chunks(2).map(|r| r[0]).collect();
    let mean = train_values.iter().sum::<f32>() / train_values.len() as f32;
    assert!((scaler.mean()[0] - mean).abs() < 1e-3, "fitted on train: {} vs {mean}", scaler.mean()[0]);
    assert_eq!(scaler.std()[1], 1.0, "a constant feature keeps std 1");
    let scaled_train = scaler.transform(&train.inputs).to_vec();
    let column: Vec<f32> = scaled_train.chunks(2).map(|r| r[0]).collect();
    let scaled_mean = column.iter().sum::<f32>() / column.len() as f32;
    let scaled_var = column.iter().map(|v| (v - scaled_mean).powi(2)).sum::<f32>() / column.len() as f32;
    assert!(scaled_mean.abs() < 1e-5 && (scaled_var - 1.0).abs() < 1e-4, "{scaled_mean} {scaled_var}");
    assert!(scaled_train.chunks(2).all(|r| r[1] == 0.0));
    // Validation data goes through the train statistics: its mean is not forced to 0.
    let scaled_valid = scaler.transform(&valid.inputs).to_vec();
    assert!(scaled_valid.iter().all(|v| v.is_finite()));
    let valid_mean = scaled_valid.chunks(2).map(|r| r[0]).sum::<f32>() / valid.len() as f32;
    let expected = (valid.inputs.to_vec().chunks(2).map(|r| r[0]).sum::<f32>() / valid.len() as f32 - scaler.mean()[0])
        / scaler.std()[0];
    assert!((valid_mean - expected).abs() < 1e-4);

    let minmax = MinMaxScaler::fit(&train.inputs);
    let scaled = minmax.transform(&train.inputs).to_vec();
    assert!(scaled.iter().all(|v| (0.0..=1.0).contains(v)));
    assert_eq!(minmax.range()[1], 1.0);
}
