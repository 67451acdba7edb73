//! BatchNorm1d/2d, LayerNorm, and conv2d + pooling against PyTorch's own numbers
//! (tests/reference/, written by make_reference.py), in f64; and checkpoints that carry
//! the running statistics.

use serde_json::Value;
use tapegrad_autograd::{ConvOptions, Tensor};
use tapegrad_nn::checkpoint::{load_into, save_params};
use tapegrad_nn::{BatchNorm1d, BatchNorm2d, LayerNorm, Module};

fn reference() -> Value {
    serde_json::from_str(include_str!("reference/reference.json")).unwrap()
}

fn case(name: &str) -> Value {
    reference()["cases"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone()
}

fn tensor(v: &Value) -> Tensor<f64> {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let values: Vec<f64> = v["values"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    Tensor::from_vec(values, &shape).unwrap()
}

#[track_caller]
fn close(actual: &Tensor<f64>, expected: &Value, what: &str) {
    let expected = tensor(expected);
    assert_eq!(actual.shape(), expected.shape(), "{what}");
    for (i, (a, e)) in actual.to_vec().iter().zip(expected.to_vec()).enumerate() {
        assert!((a - e).abs() <= 1e-10 * (1.0 + e.abs()), "{what}[{i}]: {a} vs torch {e}");
    }
}

fn check_batchnorm(mut layer: impl Module<f64>, case: Value) {
    let params = layer.named_parameters();
    params[0].1.assign(&tensor(&case["weight"]).value());
    params[1].1.assign(&tensor(&case["bias"]).value());
    let (x, upstream) = (tensor(&case["input"]), tensor(&case["upstream"]));
    let buffers = layer.named_buffers();
    for (k, step) in case["steps"].as_array().unwrap().iter().enumerate() {
        layer.zero_grad();
        let xi = (&x * (k as f64 + 1.0)).detach().requires_grad();
        let y = layer.forward(&xi);
        (&y * &upstream).sum().backward();
        close(&y, &step["output"], "output");
        close(&xi.grad().unwrap(), &step["input_grad"], "input gradient");
        close(&params[0].1.grad().unwrap(), &step["weight_grad"], "weight gradient");
        close(&params[1].1.grad().unwrap(), &step["bias_grad"], "bias gradient");
        close(&buffers[0].1, &step["running_mean"], "running_mean");
        close(&buffers[1].1, &step["running_var"], "running_var");
    }
    layer.eval();
    close(&layer.forward(&x), &case["eval_output"], "eval output");
}

#[test]
fn batchnorm2d_matches_pytorch_in_training_and_evaluation() {
    check_batchnorm(BatchNorm2d::<f64>::new(3), case("batchnorm2d"));
}

#[test]
fn batchnorm1d_matches_pytorch_in_training_and_evaluation() {
    check_batchnorm(BatchNorm1d::<f64>::new(4), case("batchnorm1d"));
}

#[test]
fn layernorm_matches_pytorch() {
    let c = case("layernorm");
    let ln = LayerNorm::<f64>::new(&[3, 4]);
    let params = ln.named_parameters();
    params[0].1.assign(&tensor(&c["weight"]).value());
    params[1].1.assign(&tensor(&c["bias"]).value());
    let x = tensor(&c["input"]).requires_grad();
    let y = ln.forward(&x);
    (&y * &tensor(&c["upstream"])).sum().backward();
    close(&y, &c["output"], "output");
    close(&x.grad().unwrap(), &c["input_grad"], "input gradient");
    close(&params[0].1.grad().unwrap(), &c["weight_grad"], "weight gradient");
    close(&params[1].1.grad().unwrap(), &c["bias_grad"], "bias gradient");
}

#[test]
fn conv2d_and_pooling_match_pytorch() {
    let c = case("conv_pool");
    let (x, w, b) =
        (tensor(&c["input"]).requires_grad(), tensor(&c["weight"]).requires_grad(), tensor(&c["bias"]).requires_grad());
    let y = x.conv2d(&w, Some(&b), ConvOptions::default().stride(2).padding(1).groups(2));
    let (m, a) = (y.max_pool2d(2, 1, 0), y.avg_pool2d(3, 1, 1));
    ((&m * &tensor(&c["upstream_max"])).sum() + (&a * &tensor(&c["upstream_avg"])).sum()).backward();
    close(&y, &c["conv"], "conv2d");
    close(&m, &c["max"], "max_pool2d");
    close(&a, &c["avg"], "avg_pool2d");
    close(&x.grad().unwrap(), &c["input_grad"], "input gradient");
    close(&w.grad().unwrap(), &c["weight_grad"], "weight gradient");
    close(&b.grad().unwrap(), &c["bias_grad"], "bias gradient");
}

#[test]
fn checkpoints_carry_the_running_statistics() {
    let mut trained = BatchNorm2d::<f32>::new(2);
    trained.forward(&Tensor::arange(0.0, 16.0, 1.0).reshape([2, 2, 2, 2]));
    let path = std::env::temp_dir().join(format!("tapegrad_bn_{}.safetensors", std::process::id()));
    save_params(&path, &trained.state_dict(), &Default::default()).unwrap();
    let mut fresh = BatchNorm2d::<f32>::new(2);
    load_into(&path, &fresh.state_dict()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(fresh.running_mean().to_vec(), trained.running_mean().to_vec());
    assert_eq!(fresh.running_var().to_vec(), trained.running_var().to_vec());
    let names: Vec<String> = fresh.state_dict().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias", "running_mean", "running_var"]);
    // Buffers are not parameters: no optimizer sees them.
    assert_eq!(fresh.parameters().len(), 2);
    trained.eval();
    fresh.eval();
    let x = Tensor::ones(&[1, 2, 2, 2]);
    assert_eq!(fresh.forward(&x).to_vec(), trained.forward(&x).to_vec());
}

#[test]
#[should_panic(expected = "BatchNorm2d: input [4, 3]: expected [batch, channels, h, w] with 3 channels")]
fn batchnorm_names_the_shape_it_expected() {
    BatchNorm2d::<f32>::new(3).forward(&Tensor::zeros(&[4, 3]));
}
