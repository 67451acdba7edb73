"""Reference trajectories for tapegrad-optim, computed by PyTorch itself.

Run from the repository root (needs only `torch`; the committed file was written by the
version recorded in it, 2.15.0, from `pip install torch`; output is deterministic):

    python optim/tests/reference/make_reference.py > optim/tests/reference/reference.json

The Rust tests in optim/tests/ rebuild the same problems with tapegrad tensors, run the
same optimizers, schedules and clipping, and compare with this file. Every input (start
values, problem data, gradients to clip) is a dyadic rational with few significant bits
(standard-normal draws rounded to multiples of 1/256; A = MᵀM/4 + I built from such
draws), so it is exact in f32 and f64. The tests parse floats correctly rounded
(serde_json's float_roundtrip), so every number arrives bit for bit. Optimizers run with
foreach=False: PyTorch's plain per-parameter loop, its default on the CPU.

Output format (one JSON object; floats as JSON numbers, infinity as the string "inf"):

    torch_version   the torch.__version__ that wrote the file
    steps           optimizer steps per case (20)
    problems        name -> {"data": {name: tensor}, "params": [tensor with "name"]}
                    where a tensor is {"shape": [..], "values": [row-major floats]}
        quadratic   f(w) = 1/2 wᵀAw − bᵀw; data A [4,4] (symmetric positive definite,
                    not diagonal), b [4]; params w [4] and `unused` [2], which the loss
                    never reads (its grad stays None, so every optimizer must skip it)
        mlp         3→4 tanh →2, MSE: out = tanh(X W1ᵀ + b1) W2ᵀ + b2,
                    loss = mean((out − Y)²); data X [5,3], Y [5,2];
                    params W1 [4,3], b1 [4], W2 [2,4], b2 [2] (nn.Linear's layout)
    optimizers      list of cases: {"name", "optimizer" (SGD|Adam|AdamW|Adagrad|RMSprop),
                    "options" (the keyword arguments given to torch.optim, by their torch
                    names), "problem", "dtype" (float64|float32),
                    "losses": [loss before step k, k = 0..steps-1],
                    "trajectory": [after step k: [each param's values, row-major]]}
    schedules       list of {"name", "scheduler" (StepLR|ExponentialLR|CosineAnnealingLR|
                    ReduceLROnPlateau), "options", "base_lr",
                    "metrics": [metric given to step() in epoch k] (plateau only, else null),
                    "lrs": [optimizer lr during epoch k, k = 0..35]}
    clip_grad_norm  list of {"name", "grads": [tensor or null (grad None)], "max_norm",
                    "norm_type" (number or "inf"), "total_norm",
                    "clipped": [values after torch.nn.utils.clip_grad_norm_ or null]}
    clip_grad_value list of {"name", "grads", "clip_value", "clipped"}
"""

import json
import math
import sys

import torch

STEPS = 20


def dyadic(*shape, generator):
    """Standard-normal values rounded to multiples of 1/256 (exact in f32 and f64)."""
    return torch.round(torch.randn(*shape, generator=generator, dtype=torch.float64) * 256) / 256


def tensor_json(t):
    return {"shape": list(t.shape), "values": [float(v) for v in t.detach().reshape(-1).tolist()]}


def make_problems():
    g = torch.Generator().manual_seed(20240611)
    m = dyadic(4, 4, generator=g)
    # Symmetric positive definite and far from diagonal: MᵀM/4 + I.
    a = m.T @ m / 4 + torch.eye(4, dtype=torch.float64)
    quadratic = {
        "data": {"A": a, "b": dyadic(4, generator=g)},
        "params": {"w": dyadic(4, generator=g), "unused": dyadic(2, generator=g)},
    }
    mlp = {
        "data": {"X": dyadic(5, 3, generator=g), "Y": dyadic(5, 2, generator=g)},
        "params": {
            "W1": dyadic(4, 3, generator=g) / 2,
            "b1": dyadic(4, generator=g) / 4,
            "W2": dyadic(2, 4, generator=g) / 2,
            "b2": dyadic(2, generator=g) / 4,
        },
    }
    return {"quadratic": quadratic, "mlp": mlp}


def loss_fn(problem_name, data, params):
    if problem_name == "quadratic":
        w = params["w"]
        return 0.5 * w @ (data["A"] @ w) - data["b"] @ w
    hidden = torch.tanh(data["X"] @ params["W1"].T + params["b1"])
    out = hidden @ params["W2"].T + params["b2"]
    return ((out - data["Y"]) ** 2).mean()


OPTIMIZER_CASES = [
    ("sgd", "SGD", {"lr": 0.1}),
    ("sgd_momentum", "SGD", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_nesterov", "SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd_dampening", "SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("sgd_weight_decay", "SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("sgd_momentum_weight_decay", "SGD", {"lr": 0.05, "momentum": 0.8, "weight_decay": 0.2, "nesterov": True}),
    ("adam", "Adam", {"lr": 0.05}),
    ("adam_amsgrad", "Adam", {"lr": 0.05, "amsgrad": True}),
    ("adam_weight_decay", "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adam_betas_eps", "Adam", {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-3, "amsgrad": True, "weight_decay": 0.05}),
    ("adamw", "AdamW", {"lr": 0.05}),
    ("adamw_weight_decay", "AdamW", {"lr": 0.05, "weight_decay": 0.3}),
    ("adamw_amsgrad", "AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("adagrad", "Adagrad", {"lr": 0.1}),
    ("adagrad_lr_decay", "Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("adagrad_all", "Adagrad", {"lr": 0.2, "lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-4}),
    ("rmsprop", "RMSprop", {"lr": 0.01}),
    ("rmsprop_momentum", "RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("rmsprop_centered", "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop_all", "RMSprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-4, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
]


def run_optimizer(problem_name, problem, cls_name, options, dtype):
    data = {k: v.to(dtype) for k, v in problem["data"].items()}
    params = {k: v.to(dtype).clone().requires_grad_(True) for k, v in problem["params"].items()}
    kwargs = dict(options)
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    # foreach=False: the plain per-parameter loop (PyTorch's CPU default), written as in the docs.
    opt = getattr(torch.optim, cls_name)(list(params.values()), foreach=False, **kwargs)
    losses, trajectory = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(problem_name, data, params)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        trajectory.append([[float(v) for v in p.detach().reshape(-1).tolist()] for p in params.values()])
    return losses, trajectory


def optimizer_cases(problems):
    cases = []
    for problem_name in ["quadratic", "mlp"]:
        for name, cls_name, options in OPTIMIZER_CASES:
            losses, trajectory = run_optimizer(problem_name, problems[problem_name], cls_name, options, torch.float64)
            cases.append({
                "name": f"{name}/{problem_name}", "optimizer": cls_name, "options": options,
                "problem": problem_name, "dtype": "float64", "losses": losses, "trajectory": trajectory,
            })
    for name, cls_name, options in [("adam_f32", "Adam", {"lr": 0.05}), ("adamw_amsgrad_f32", "AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True})]:
        losses, trajectory = run_optimizer("mlp", problems["mlp"], cls_name, options, torch.float32)
        cases.append({
            "name": f"{name}/mlp", "optimizer": cls_name, "options": options,
            "problem": "mlp", "dtype": "float32", "losses": losses, "trajectory": trajectory,
        })
    return cases


# A loss curve that falls, stalls, wobbles inside the threshold, stalls long enough for the
# default patience (10), and falls again.
PLATEAU_METRICS = [
    1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.795, 0.7, 0.7, 0.7,
    0.7, 0.7, 0.69, 0.6999, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,
    0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.4,
    0.4, 0.4, 0.35, 0.4, 0.4, 0.4,
]

SCHEDULE_CASES = [
    ("step_lr", "StepLR", {"step_size": 7, "gamma": 0.5}),
    ("step_lr_default_gamma", "StepLR", {"step_size": 3}),
    ("exponential_lr", "ExponentialLR", {"gamma": 0.9}),
    ("cosine_annealing_lr", "CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("cosine_annealing_lr_no_min", "CosineAnnealingLR", {"T_max": 30}),
    ("plateau_default", "ReduceLROnPlateau", {}),
    ("plateau", "ReduceLROnPlateau", {"factor": 0.5, "patience": 2, "threshold": 0.01, "cooldown": 1, "min_lr": 0.02}),
    ("plateau_abs", "ReduceLROnPlateau", {"factor": 0.3, "patience": 1, "threshold": 0.05, "threshold_mode": "abs"}),
    ("plateau_max", "ReduceLROnPlateau", {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.01}),
]


def schedule_cases():
    cases = []
    epochs = len(PLATEAU_METRICS)
    for name, cls_name, options in SCHEDULE_CASES:
        base_lr = 0.1
        param = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([param], lr=base_lr)
        sched = getattr(torch.optim.lr_scheduler, cls_name)(opt, **options)
        plateau = cls_name == "ReduceLROnPlateau"
        # In "max" mode the metric is an accuracy: 1 − loss.
        metrics = [(1 - m if options.get("mode") == "max" else m) for m in PLATEAU_METRICS] if plateau else None
        lrs = []
        for epoch in range(epochs):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()  # the epoch's training (no gradients: nothing moves)
            if plateau:
                sched.step(metrics[epoch])
            else:
                sched.step()
        cases.append({"name": name, "scheduler": cls_name, "options": options, "base_lr": base_lr,
                      "metrics": metrics, "lrs": lrs})
    return cases


def grad_set(generator, shapes, scale):
    return [None if s is None else dyadic(*s, generator=generator) * scale for s in shapes]


def clip_cases():
    g = torch.Generator().manual_seed(7)
    shapes = [[3, 2], None, [4], [2, 2, 2]]
    norm_cases, value_cases = [], []
    for name, scale, max_norm, norm_type in [
        ("l2_clipped", 1.0, 1.0, 2.0),
        ("l2_not_clipped", 0.05, 5.0, 2.0),
        ("l1_clipped", 1.0, 2.0, 1.0),
        ("linf_clipped", 1.0, 0.5, math.inf),
        ("l3_clipped", 2.0, 1.5, 3.0),
    ]:
        grads = grad_set(g, shapes, scale)
        params = []
        for s, gr in zip(shapes, grads):
            p = torch.zeros(*(s or [3]), dtype=torch.float64, requires_grad=True)
            p.grad = None if gr is None else gr.clone()
            params.append(p)
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type, foreach=False)
        norm_cases.append({
            "name": name, "grads": [None if gr is None else tensor_json(gr) for gr in grads],
            "max_norm": max_norm, "norm_type": "inf" if math.isinf(norm_type) else norm_type,
            "total_norm": float(total),
            "clipped": [None if p.grad is None else [float(v) for v in p.grad.reshape(-1).tolist()] for p in params],
        })
    grads = grad_set(g, shapes, 1.0)
    params = []
    for s, gr in zip(shapes, grads):
        p = torch.zeros(*(s or [3]), dtype=torch.float64, requires_grad=True)
        p.grad = None if gr is None else gr.clone()
        params.append(p)
    torch.nn.utils.clip_grad_value_(params, 0.75, foreach=False)
    value_cases.append({
        "name": "value_0.75", "grads": [None if gr is None else tensor_json(gr) for gr in grads], "clip_value": 0.75,
        "clipped": [None if p.grad is None else [float(v) for v in p.grad.reshape(-1).tolist()] for p in params],
    })
    return norm_cases, value_cases


def main():
    problems = make_problems()
    norm_cases, value_cases = clip_cases()
    out = {
        "torch_version": torch.__version__,
        "steps": STEPS,
        "problems": {
            name: {
                "data": {k: tensor_json(v) for k, v in p["data"].items()},
                "params": [dict(name=k, **tensor_json(v)) for k, v in p["params"].items()],
            }
            for name, p in problems.items()
        },
        "optimizers": optimizer_cases(problems),
        "schedules": schedule_cases(),
        "clip_grad_norm": norm_cases,
        "clip_grad_value": value_cases,
    }
    # One line per problem and per case: diffs stay readable, the file stays small.
    lines = []
    for key, value in out.items():
        if isinstance(value, list):
            items = ",\n  ".join(json.dumps(v, separators=(",", ":")) for v in value)
            lines.append(f" {json.dumps(key)}: [\n  {items}\n ]")
        elif isinstance(value, dict):
            items = ",\n  ".join(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in value.items())
            lines.append(f" {json.dumps(key)}: {{\n  {items}\n }}")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)}")
    sys.stdout.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
