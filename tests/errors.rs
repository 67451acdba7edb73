//! Misuse gets a clear message naming the op, every shape and axis, and the caller's line;
//! outside data gets a `Result`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tapegrad::prelude::*;

/// The panic message of `f`, which must panic.
fn message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("should have panicked");
    payload.downcast_ref::<String>().cloned().unwrap_or_else(|| payload.downcast_ref::<&str>().unwrap().to_string())
}

#[test]
fn matmul_names_both_shapes_and_the_callers_line() {
    let (x, w) = (Tensor::<f32>::zeros(&[64, 784]), Tensor::<f32>::zeros(&[128, 10]));
    let m = message(|| {
        x.matmul(&w);
    });
    let line = line!() - 2;
    assert_eq!(
        m,
        format!("matmul: [64, 784] x [128, 10]: inner dimensions 784 and 128 differ (at tests/errors.rs:{line})")
    );
}

#[test]
fn operators_point_at_the_callers_line_too() {
    let (a, b) = (Tensor::<f32>::zeros(&[2, 3]), Tensor::<f32>::zeros(&[4]));
    let m = message(|| {
        let _ = &a + &b;
    });
    let line = line!() - 2;
    assert_eq!(
        m,
        format!("add: shapes [2, 3] and [4] cannot broadcast: axis -1 has sizes 3 and 4 (at tests/errors.rs:{line})")
    );
}

#[test]
fn bad_axes_and_shapes_are_named() {
    let x = Tensor::<f32>::zeros(&[2, 3]);
    assert!(message(|| drop(x.sum_dim(2, false))).starts_with("sum: axis 2 is out of range for shape [2, 3] (2 axes)"));
    assert!(message(|| drop(x.softmax(-3))).starts_with("softmax: axis -3 is out of range for shape [2, 3]"));
    assert!(
        message(|| drop(x.reshape([4, 2])))
            .starts_with("reshape: cannot reshape [2, 3] (6 elements) to [4, 2] (8 elements)")
    );
    assert!(message(|| drop(x.squeeze(0))).starts_with("squeeze: axis 0 of shape [2, 3] has size 2, not 1"));
    assert!(message(|| drop(x.narrow(1, 2, 2))).starts_with("narrow: range 2..4 on axis 1 does not fit shape [2, 3]"));
    assert!(
        message(|| drop(Tensor::concat(&[&x, &Tensor::zeros(&[2, 2])], 0)))
            .starts_with("concat: shapes [[2, 3], [2, 2]] differ off axis 0")
    );
    let labels = Indices::new(vec![1, 3], &[2, 1]).unwrap();
    assert!(
        message(|| drop(x.gather(1, &labels)))
            .starts_with("gather: index 3 (at flat position 1) is out of range for axis 1 of shape [2, 3]")
    );
    assert!(
        message(|| drop(Tensor::<f32>::one_hot(&Indices::from(vec![0, 5]), 4)))
            .starts_with("one_hot: class 5 (at position 1) is out of range for 4 classes")
    );
}

#[test]
fn parameters_are_the_only_mutable_tensors() {
    let x = Tensor::<f32>::zeros(&[2]);
    assert!(message(|| x.update_data(|_| {})).starts_with("update_data: the tensor of shape [2] is not a parameter"));
    let w = Tensor::<f32>::zeros(&[2]).requires_grad();
    let y = &w * 2.0;
    assert!(
        message(|| drop(y.requires_grad()))
            .starts_with("requires_grad: the tensor of shape [2] is the result of mul_scalar")
    );
}

#[test]
fn outside_data_gets_a_result() {
    let err = Tensor::<f32>::from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
    assert_eq!(err.to_string(), "from_vec: 5 values cannot fill shape [2, 3] (6 elements)");
    assert!(Indices::new(vec![1, 2], &[3]).is_err());
}
