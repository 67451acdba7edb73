//! `step` is the hot path of training: a tight loop over plain vectors inside
//! `update_data`, creating no tensors. Alone in its own test binary, because the live
//! tensor count is global to the process.

use tapegrad_autograd::{Tensor, live_tensors};
use tapegrad_optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig,
};

/// Builds one optimizer over the given parameters.
type Make = Box<dyn Fn(Vec<Tensor<f32>>) -> Box<dyn Optimizer<f32>>>;

#[test]
fn step_creates_no_tensors_and_writes_each_parameter_once() {
    let params = || vec![Tensor::<f32>::ones(&[64, 32]).requires_grad(), Tensor::<f32>::ones(&[32]).requires_grad()];
    let optimizers: Vec<Make> = vec![
        Box::new(|p| {
            Box::new(Sgd::new(p, SgdConfig { momentum: 0.9, weight_decay: 0.1, ..SgdConfig::default() }).unwrap())
        }),
        Box::new(|p| Box::new(Adam::new(p, AdamConfig { amsgrad: true, ..AdamConfig::default() }).unwrap())),
        Box::new(|p| Box::new(AdamW::new(p, AdamWConfig::default()).unwrap())),
        Box::new(|p| Box::new(Adagrad::new(p, AdagradConfig::default()).unwrap())),
        Box::new(|p| {
            Box::new(
                RmsProp::new(p, RmsPropConfig { centered: true, momentum: 0.5, ..RmsPropConfig::default() }).unwrap(),
            )
        }),
    ];
    for make in optimizers {
        let params = params();
        let mut opt = make(params.clone());
        for _ in 0..3 {
            opt.zero_grad();
            params.iter().map(|p| p.square().sum()).reduce(|a, b| a + b).unwrap().backward();
            let (tensors, versions) = (live_tensors(), params.iter().map(Tensor::version).collect::<Vec<_>>());
            opt.step();
            assert_eq!(live_tensors(), tensors, "step made tensors");
            for (p, v) in params.iter().zip(versions) {
                assert_eq!(p.version(), v + 1, "each parameter is written exactly once per step");
            }
        }
    }
}
