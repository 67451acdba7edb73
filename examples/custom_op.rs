//! A new op from outside the autograd crate, through the extension trait: Swish
//! (x·σ(βx), "SiLU" at β = 1), with its forward and backward in one impl. Its backward is
//! written with tensor ops, so second derivatives work too. Gradient-checked, then trained.
//!
//! cargo run --release --example custom_op

use tapegrad::autograd::{Context, Function, Saved};
use tapegrad::prelude::*;

/// swish(x) = x·σ(βx); swish′(x) = σ(βx) + βx·σ(βx)(1 − σ(βx)).
struct Swish {
    beta: f64,
}

impl Function<f64> for Swish {
    fn name(&self) -> &str {
        "swish"
    }

    fn forward(&self, ctx: &mut Context<f64>, inputs: &[Tensor<f64>]) -> Tensor<f64> {
        let x = &inputs[0];
        ctx.save(x); // the backward needs x only
        x * &(x * self.beta).sigmoid()
    }

    fn backward(&self, saved: &Saved<f64>, grad: &Tensor<f64>) -> Vec<Option<Tensor<f64>>> {
        let x = saved.get(0);
        let s = (x * self.beta).sigmoid();
        let derivative = &s + &(x * self.beta * &s * &(1.0 - &s));
        vec![Some(grad * &derivative)]
    }
}

fn main() {
    let mut rng = StdRng::seed_from_u64(7);
    let x = Tensor::<f64>::uniform(&[4, 3], -3.0, 3.0, &mut rng);
    let swish = |p: &[Tensor<f64>]| Swish { beta: 1.5 }.apply(&[&p[0]]);
    let options = GradcheckOptions::default();
    let input = std::slice::from_ref(&x);
    match (gradcheck(swish, input, &options), gradgradcheck(swish, input, &options)) {
        (Ok(()), Ok(())) => println!("swish: gradcheck and gradgradcheck passed on a [4, 3] input"),
        (first, second) => {
            println!("swish: gradcheck {first:?}, gradgradcheck {second:?}");
            std::process::exit(1);
        }
    }

    // Used like any built-in op: fit y = swish(a·x) to data made with a = 2.
    let xs = Tensor::<f64>::linspace(-2.0, 2.0, 40);
    let ys = Swish { beta: 1.0 }.apply(&[&(&xs * 2.0)]);
    let a = Tensor::scalar(0.5).requires_grad();
    for step in 0..=100 {
        let loss = (Swish { beta: 1.0 }.apply(&[&(&xs * &a)]) - &ys).square().mean();
        if step % 20 == 0 {
            println!("step {step:>3}  loss {:.6}  a = {:.4}", loss.item(), a.item());
        }
        loss.backward();
        let g = a.grad().unwrap().item();
        a.update_data(|v| v[0] -= 0.5 * g);
        a.zero_grad();
    }
    println!("final: a = {:.4} (data made with a = 2)", a.item());
    println!("graph of one step:\n{}", Swish { beta: 1.0 }.apply(&[&(&xs * &a)]).sum().to_dot());
}
