//! Saving and loading optimizer state: 10 steps, save, load into a fresh optimizer over the
//! same parameters, 10 more steps must give parameters bit-identical to an uninterrupted
//! 20-step run, for every optimizer configuration of the PyTorch fixture (on the MLP, and
//! on the quadratic whose second parameter never has a gradient). Loading wrong state fails
//! with an error naming the entry, and changes nothing.

mod common;

use common::{Problem, optimizer, optimizer_cases};
use serde_json::Value;
use tapegrad_autograd::{Array, Element, Tensor};
use tapegrad_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, OptimError, Optimizer, OptimizerState, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};

fn bits<T: Element>(params: &[Tensor<T>]) -> Vec<Vec<u64>> {
    params.iter().map(|p| p.to_vec().iter().map(|x| x.to_f64().unwrap().to_bits()).collect()).collect()
}

/// Runs a case straight through and with a save/load at step 10; both must end bit-identical.
fn check_resume<T: Element>(case: &Value, problem_name: &str) {
    let (kind, options) = (case["optimizer"].as_str().unwrap(), &case["options"]);
    let straight = Problem::<T>::new(problem_name);
    let mut opt = optimizer::<T>(kind, options, straight.params.clone());
    for _ in 0..20 {
        straight.train_step(opt.as_mut());
    }

    let resumed = Problem::<T>::new(problem_name);
    let mut first = optimizer::<T>(kind, options, resumed.params.clone());
    for _ in 0..10 {
        resumed.train_step(first.as_mut());
    }
    let saved = first.state();
    drop(first);
    let mut second = optimizer::<T>(kind, options, resumed.params.clone());
    second.load_state(&saved).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
    for _ in 0..10 {
        resumed.train_step(second.as_mut());
    }
    assert_eq!(bits(&straight.params), bits(&resumed.params), "{} on {problem_name}", case["name"]);
    assert_eq!(second.state().scalars, opt.state().scalars, "{}: same step counts", case["name"]);
}

#[test]
fn every_optimizer_resumes_bit_identically() {
    let cases: Vec<&Value> =
        optimizer_cases().iter().filter(|c| c["problem"] == "mlp" && c["dtype"] == "float64").collect();
    assert_eq!(cases.len(), 20);
    for case in cases {
        check_resume::<f64>(case, "mlp");
        check_resume::<f64>(case, "quadratic");
        check_resume::<f32>(case, "mlp");
    }
}

#[test]
fn a_loaded_learning_rate_replaces_the_configured_one() {
    // Schedules change lr during training; resuming must continue from the saved lr.
    let w = Tensor::<f64>::ones(&[2]).requires_grad();
    let mut opt = Adam::new(vec![w.clone()], AdamConfig { lr: 0.1, ..AdamConfig::default() }).unwrap();
    opt.set_lr(0.0125);
    let mut fresh = Adam::new(vec![w], AdamConfig { lr: 0.1, ..AdamConfig::default() }).unwrap();
    fresh.load_state(&opt.state()).unwrap();
    assert_eq!(fresh.lr(), 0.0125);
}

/// A state after one step of `opt` on Σθ², for the error tests.
fn stepped_state<O: Optimizer<f64>>(make: impl Fn(Vec<Tensor<f64>>) -> O, shapes: &[&[usize]]) -> OptimizerState<f64> {
    let params: Vec<Tensor<f64>> = shapes.iter().map(|s| Tensor::ones(s).requires_grad()).collect();
    let mut opt = make(params.clone());
    params.iter().map(|p| p.square().sum()).reduce(|a, b| a + b).unwrap().backward();
    opt.step();
    opt.state()
}

fn adam(params: Vec<Tensor<f64>>) -> Adam<f64> {
    Adam::new(params, AdamConfig::default()).unwrap()
}

fn load_error<O: Optimizer<f64>>(mut opt: O, state: &OptimizerState<f64>) -> String {
    let before = opt.state();
    let err: OptimError = opt.load_state(state).unwrap_err();
    let after = opt.state();
    assert_eq!(before.scalars, after.scalars, "a failed load changes nothing");
    assert_eq!(before.tensors.len(), after.tensors.len(), "a failed load changes nothing");
    err.to_string()
}

fn params(shapes: &[&[usize]]) -> Vec<Tensor<f64>> {
    shapes.iter().map(|s| Tensor::ones(s).requires_grad()).collect()
}

#[test]
fn mismatched_state_is_an_error_naming_the_entry() {
    let shapes: &[&[usize]] = &[&[2, 3], &[3]];
    let saved = stepped_state(adam, shapes);

    // Another optimizer's state: its first foreign entry is named.
    let sgd = Sgd::new(params(shapes), SgdConfig { momentum: 0.9, ..SgdConfig::default() }).unwrap();
    assert_eq!(
        load_error(sgd, &saved),
        "SGD.load_state: unexpected entry 'state.0.exp_avg' (this SGD with its configuration keeps no such state)"
    );
    let rmsprop = RmsProp::new(params(shapes), RmsPropConfig::default()).unwrap();
    assert_eq!(
        load_error(rmsprop, &saved),
        "RMSprop.load_state: unexpected entry 'state.0.exp_avg' (this RMSprop with its configuration keeps no such state)"
    );

    // Another number of parameters.
    assert_eq!(
        load_error(adam(params(&[&[2, 3]])), &saved),
        "Adam.load_state: the state is for 2 parameters, but this optimizer has 1"
    );

    // Another shape.
    assert_eq!(
        load_error(adam(params(&[&[3, 2], &[3]])), &saved),
        "Adam.load_state: entry 'state.0.exp_avg' has shape [2, 3], but parameter 0 has shape [3, 2]"
    );

    // Another configuration: amsgrad needs a buffer the state lacks; betas differ.
    let amsgrad = Adam::new(params(shapes), AdamConfig { amsgrad: true, ..AdamConfig::default() }).unwrap();
    assert_eq!(
        load_error(amsgrad, &saved),
        "Adam.load_state: hyperparameter 'amsgrad' is 0 in the state but 1 in this optimizer; build the optimizer with the saved configuration"
    );
    let betas = Adam::new(params(shapes), AdamConfig { betas: (0.8, 0.999), ..AdamConfig::default() }).unwrap();
    assert!(load_error(betas, &saved).contains("hyperparameter 'betas.0' is 0.9 in the state but 0.8"));

    // Adam's state into AdamW: the weight-decay flavour differs.
    let adamw = AdamW::new(params(shapes), AdamWConfig { weight_decay: 0.0, ..AdamWConfig::default() }).unwrap();
    assert!(load_error(adamw, &saved).contains("hyperparameter 'decoupled_weight_decay' is 0 in the state but 1"));
}

#[test]
fn damaged_state_is_an_error_naming_the_entry() {
    let shapes: &[&[usize]] = &[&[2, 3], &[3]];
    let saved = stepped_state(adam, shapes);

    let mut missing = saved.clone();
    missing.tensors.retain(|(n, _)| n != "state.1.exp_avg_sq");
    assert_eq!(
        load_error(adam(params(shapes)), &missing),
        "Adam.load_state: the state has no entry 'state.1.exp_avg_sq'"
    );

    let mut no_lr = saved.clone();
    no_lr.scalars.retain(|(n, _)| n != "lr");
    assert_eq!(load_error(adam(params(shapes)), &no_lr), "Adam.load_state: the state has no entry 'lr'");

    let mut extra = saved.clone();
    extra.tensors.push(("state.2.exp_avg".into(), Array::full(&[3], 0.0)));
    assert_eq!(
        load_error(adam(params(shapes)), &extra),
        "Adam.load_state: unexpected entry 'state.2.exp_avg' (this Adam has 2 parameters, numbered from 0)"
    );

    let mut twice = saved.clone();
    twice.scalars.push(("lr".into(), 0.5));
    assert_eq!(load_error(adam(params(shapes)), &twice), "Adam.load_state: entry 'lr' appears more than once");

    let mut fractional = saved.clone();
    fractional.scalars.iter_mut().filter(|(n, _)| n == "state.0.step").for_each(|(_, v)| *v = 1.5);
    assert_eq!(
        load_error(adam(params(shapes)), &fractional),
        "Adam.load_state: entry 'state.0.step' is 1.5, but a step count must be a whole number ≥ 0"
    );

    let mut negative_lr = saved;
    negative_lr.scalars.iter_mut().filter(|(n, _)| n == "lr").for_each(|(_, v)| *v = -1.0);
    assert_eq!(
        load_error(adam(params(shapes)), &negative_lr),
        "Adam.load_state: entry 'lr' is -1, but a learning rate must be finite and ≥ 0"
    );
}

#[test]
fn every_optimizer_names_its_state_as_pytorch_does() {
    let shapes: &[&[usize]] = &[&[2]];
    let names = |state: OptimizerState<f64>| {
        let mut names: Vec<String> = state.tensors.into_iter().map(|(n, _)| n).collect();
        names.extend(state.scalars.into_iter().map(|(n, _)| n));
        names
    };
    let sgd = stepped_state(|p| Sgd::new(p, SgdConfig { momentum: 0.9, ..SgdConfig::default() }).unwrap(), shapes);
    assert_eq!(
        names(sgd),
        ["state.0.momentum_buffer", "params", "lr", "momentum", "dampening", "weight_decay", "nesterov"]
    );
    let adam = stepped_state(|p| Adam::new(p, AdamConfig { amsgrad: true, ..AdamConfig::default() }).unwrap(), shapes);
    assert_eq!(
        names(adam),
        [
            "state.0.exp_avg",
            "state.0.exp_avg_sq",
            "state.0.max_exp_avg_sq",
            "state.0.step",
            "params",
            "lr",
            "betas.0",
            "betas.1",
            "eps",
            "weight_decay",
            "amsgrad",
            "decoupled_weight_decay"
        ]
    );
    let adagrad = stepped_state(|p| Adagrad::new(p, AdagradConfig::default()).unwrap(), shapes);
    assert_eq!(
        names(adagrad),
        ["state.0.sum", "state.0.step", "params", "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"]
    );
    let rmsprop = RmsPropConfig { momentum: 0.5, centered: true, ..RmsPropConfig::default() };
    let rmsprop = stepped_state(|p| RmsProp::new(p, rmsprop.clone()).unwrap(), shapes);
    assert_eq!(
        names(rmsprop),
        [
            "state.0.square_avg",
            "state.0.momentum_buffer",
            "state.0.grad_avg",
            "state.0.step",
            "params",
            "lr",
            "alpha",
            "eps",
            "weight_decay",
            "momentum",
            "centered"
        ]
    );
}
