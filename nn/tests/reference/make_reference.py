"""Reference values for tapegrad-nn's normalization and pooling layers, computed by PyTorch.

Run from the repository root (needs only `torch`; the committed file was written by the
version recorded in it, from `pip install torch`; output is deterministic):

    python nn/tests/reference/make_reference.py > nn/tests/reference/reference.json

Inputs are dyadic rationals (standard-normal draws rounded to multiples of 1/64), exact in
f64. Everything runs in float64.

Output format (one JSON object): torch_version, and cases, a list of
{"name", "input": tensor, "upstream": tensor (the gradient fed back), "steps": [...]}
where a tensor is {"shape": [..], "values": [row-major floats]}.
    batchnorm2d   BatchNorm2d(3, momentum=0.1, eps=1e-5), weight and bias set to given
                  values; steps: three training forwards on input·(k+1), k = 0, 1, 2 (each
                  with output, input gradient, weight and bias gradients, and the running
                  statistics after it), then one eval forward (output)
    batchnorm1d   BatchNorm1d(4) on [6, 4], same steps
    layernorm     LayerNorm([3, 4]) on [2, 3, 4] with given weight and bias: output, grads
    conv_pool     conv2d(x, w, b, stride=2, padding=1, dilation=1, groups=2) then
                  max_pool2d(2, 1) and avg_pool2d(3, 1, 1): outputs and input/weight grads
"""

import json
import torch

torch.set_default_dtype(torch.float64)
gen = torch.Generator().manual_seed(0)


def draw(*shape):
    return torch.round(torch.randn(*shape, generator=gen) * 64) / 64


def t(x):
    x = x.detach()
    return {"shape": list(x.shape), "values": x.flatten().tolist()}


def norm_case(name, layer, x, upstream):
    layer.weight.data = draw(*layer.weight.shape) + 1
    layer.bias.data = draw(*layer.bias.shape)
    case = {"name": name, "input": t(x), "upstream": t(upstream), "weight": t(layer.weight),
            "bias": t(layer.bias), "steps": []}
    for k in range(3):
        layer.train()
        xi = (x * (k + 1)).requires_grad_()
        layer.zero_grad()
        y = layer(xi)
        (y * upstream).sum().backward()
        case["steps"].append({"output": t(y), "input_grad": t(xi.grad), "weight_grad": t(layer.weight.grad),
                              "bias_grad": t(layer.bias.grad), "running_mean": t(layer.running_mean),
                              "running_var": t(layer.running_var)})
    layer.eval()
    case["eval_output"] = t(layer(x))
    return case


cases = []
x = draw(4, 3, 5, 5)
cases.append(norm_case("batchnorm2d", torch.nn.BatchNorm2d(3), x, draw(4, 3, 5, 5)))
x = draw(6, 4)
cases.append(norm_case("batchnorm1d", torch.nn.BatchNorm1d(4), x, draw(6, 4)))

ln = torch.nn.LayerNorm([3, 4])
ln.weight.data = draw(3, 4) + 1
ln.bias.data = draw(3, 4)
x = draw(2, 3, 4).requires_grad_()
up = draw(2, 3, 4)
y = ln(x)
(y * up).sum().backward()
cases.append({"name": "layernorm", "input": t(x), "upstream": t(up), "weight": t(ln.weight), "bias": t(ln.bias),
              "output": t(y), "input_grad": t(x.grad), "weight_grad": t(ln.weight.grad), "bias_grad": t(ln.bias.grad)})

x = draw(2, 4, 7, 6).requires_grad_()
w = draw(6, 2, 3, 3).requires_grad_()
b = draw(6).requires_grad_()
y = torch.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2)
m = torch.nn.functional.max_pool2d(y, 2, 1)
a = torch.nn.functional.avg_pool2d(y, 3, 1, 1)
up_m, up_a = draw(*m.shape), draw(*a.shape)
((m * up_m).sum() + (a * up_a).sum()).backward()
cases.append({"name": "conv_pool", "input": t(x), "weight": t(w), "bias": t(b), "upstream_max": t(up_m),
              "upstream_avg": t(up_a), "conv": t(y), "max": t(m), "avg": t(a), "input_grad": t(x.grad),
              "weight_grad": t(w.grad), "bias_grad": t(b.grad)})

print(json.dumps({"torch_version": torch.__version__, "cases": cases}))
