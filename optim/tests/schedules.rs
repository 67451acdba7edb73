//! Learning-rate schedules against PyTorch's `torch.optim.lr_scheduler`: the learning rate
//! in effect during each of 36 epochs, for StepLR, ExponentialLR, CosineAnnealingLR and
//! ReduceLROnPlateau (on a scripted metric sequence), from tests/reference/.
//!
//! StepLR, ExponentialLR and ReduceLROnPlateau do PyTorch's arithmetic in PyTorch's order
//! and must match bit for bit. CosineAnnealingLR uses PyTorch's closed form where PyTorch's
//! `step()` uses a recursive update: they must agree to 1e-12 relative.

mod common;

use common::{f64s, reference};
use serde_json::Value;
use tapegrad_autograd::Tensor;
use tapegrad_optim::{
    CosineAnnealingLR, ExponentialLR, OptimError, Optimizer, PlateauConfig, PlateauMode, ReduceLROnPlateau, Scheduler,
    Sgd, SgdConfig, StepLR, ThresholdMode,
};

fn number(options: &Value, key: &str, default: f64) -> f64 {
    options.get(key).map_or(default, |v| v.as_f64().unwrap())
}

fn plateau_config(options: &Value) -> PlateauConfig {
    let mut c = PlateauConfig::default();
    for (key, v) in options.as_object().unwrap() {
        match key.as_str() {
            "mode" => c.mode = if v == "max" { PlateauMode::Max } else { PlateauMode::Min },
            "factor" => c.factor = v.as_f64().unwrap(),
            "patience" => c.patience = v.as_u64().unwrap() as usize,
            "threshold" => c.threshold = v.as_f64().unwrap(),
            "threshold_mode" => c.threshold_mode = if v == "abs" { ThresholdMode::Abs } else { ThresholdMode::Rel },
            "cooldown" => c.cooldown = v.as_u64().unwrap() as usize,
            "min_lr" => c.min_lr = v.as_f64().unwrap(),
            other => panic!("the tests do not know ReduceLROnPlateau option {other}"),
        }
    }
    c
}

enum Schedule {
    Epochs(Box<dyn Scheduler<f64>>),
    Plateau(ReduceLROnPlateau, Vec<f64>),
}

#[test]
fn schedules_match_pytorch() {
    let cases = reference()["schedules"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let options = &case["options"];
        let w = Tensor::<f64>::zeros(&[1]).requires_grad();
        let lr = case["base_lr"].as_f64().unwrap();
        let mut opt = Sgd::new(vec![w], SgdConfig { lr, ..SgdConfig::default() }).unwrap();
        let mut schedule = match case["scheduler"].as_str().unwrap() {
            "StepLR" => Schedule::Epochs(Box::new(
                StepLR::new(&opt, options["step_size"].as_u64().unwrap() as usize, number(options, "gamma", 0.1))
                    .unwrap(),
            )),
            "ExponentialLR" => {
                Schedule::Epochs(Box::new(ExponentialLR::new(&opt, number(options, "gamma", 0.0)).unwrap()))
            }
            "CosineAnnealingLR" => Schedule::Epochs(Box::new(
                CosineAnnealingLR::new(
                    &opt,
                    options["T_max"].as_u64().unwrap() as usize,
                    number(options, "eta_min", 0.0),
                )
                .unwrap(),
            )),
            "ReduceLROnPlateau" => Schedule::Plateau(
                ReduceLROnPlateau::new(&opt, plateau_config(options)).unwrap(),
                f64s(&case["metrics"]),
            ),
            other => panic!("unknown scheduler {other}"),
        };
        let exact = case["scheduler"] != "CosineAnnealingLR";
        let expected = f64s(&case["lrs"]);
        assert_eq!(expected.len(), 36);
        for (epoch, &torch_lr) in expected.iter().enumerate() {
            let lr = opt.lr();
            if exact {
                assert_eq!(lr.to_bits(), torch_lr.to_bits(), "{name}, epoch {epoch}: {lr:e} vs torch {torch_lr:e}");
            } else {
                assert!(
                    (lr - torch_lr).abs() <= 1e-12 * torch_lr.abs() + 1e-18,
                    "{name}, epoch {epoch}: {lr:e} vs torch {torch_lr:e}"
                );
            }
            opt.step(); // an epoch of training (no gradients here, so nothing moves)
            match &mut schedule {
                Schedule::Epochs(s) => {
                    s.step(&mut opt);
                    assert_eq!(s.lr(), opt.lr());
                }
                Schedule::Plateau(s, metrics) => {
                    s.step(&mut opt, metrics[epoch]);
                    assert_eq!(s.lr(), opt.lr());
                }
            }
        }
    }
}

#[test]
fn plateau_reduces_only_after_patience_and_respects_min_lr_and_cooldown() {
    let w = Tensor::<f32>::zeros(&[1]).requires_grad();
    let mut opt = Sgd::new(vec![w], SgdConfig { lr: 1.0, ..SgdConfig::default() }).unwrap();
    let config = PlateauConfig { factor: 0.5, patience: 2, cooldown: 2, min_lr: 0.3, ..PlateauConfig::default() };
    let mut schedule = ReduceLROnPlateau::new(&opt, config).unwrap();
    let mut lrs = Vec::new();
    for _ in 0..12 {
        schedule.step(&mut opt, 1.0); // never improves after the first epoch
        lrs.push(opt.lr());
    }
    // Epoch 1 sets best; bad epochs 2, 3, 4 → the third exceeds patience 2: halve. Then two
    // cooldown epochs count nothing, three more bad epochs halve again (clamped at 0.3),
    // and from then on the reduction would be 0, so lr stays.
    assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3]);
    assert_eq!(schedule.best(), 1.0);
    assert_eq!(schedule.last_epoch(), 12);
}

#[test]
fn cosine_reaches_eta_min_at_t_max() {
    let w = Tensor::<f32>::zeros(&[1]).requires_grad();
    let mut opt = Sgd::new(vec![w], SgdConfig { lr: 0.2, ..SgdConfig::default() }).unwrap();
    let mut schedule = CosineAnnealingLR::new(&opt, 8, 0.01).unwrap();
    for _ in 0..8 {
        schedule.step(&mut opt);
    }
    assert_eq!(opt.lr(), 0.01);
    assert_eq!(schedule.last_epoch(), 8);
}

#[test]
fn bad_schedule_settings_are_errors() {
    let w = Tensor::<f32>::zeros(&[1]).requires_grad();
    let opt = Sgd::new(vec![w], SgdConfig::default()).unwrap();
    let messages = [
        StepLR::new(&opt, 0, 0.1).unwrap_err(),
        StepLR::new(&opt, 3, -0.5).unwrap_err(),
        ExponentialLR::new(&opt, f64::NAN).unwrap_err(),
        CosineAnnealingLR::new(&opt, 0, 0.0).unwrap_err(),
        CosineAnnealingLR::new(&opt, 10, -1e-3).unwrap_err(),
        ReduceLROnPlateau::new(&opt, PlateauConfig { factor: 1.0, ..PlateauConfig::default() }).unwrap_err(),
        ReduceLROnPlateau::new(&opt, PlateauConfig { threshold: -0.1, ..PlateauConfig::default() }).unwrap_err(),
    ]
    .map(|e: OptimError| e.to_string());
    assert_eq!(
        messages,
        [
            "StepLR: invalid step_size 0: must be ≥ 1",
            "StepLR: invalid gamma -0.5: must be finite and ≥ 0",
            "ExponentialLR: invalid gamma NaN: must be finite and ≥ 0",
            "CosineAnnealingLR: invalid T_max 0: must be ≥ 1",
            "CosineAnnealingLR: invalid eta_min -0.001: must be finite and ≥ 0",
            "ReduceLROnPlateau: invalid factor 1: must be in [0, 1)",
            "ReduceLROnPlateau: invalid threshold -0.1: must be finite and ≥ 0",
        ]
    );
}
