"""W5 for PyTorch: one epoch of the LeNet-style CNN of tapegrad's `bench w5`, timed the same way.

60,000 MNIST-shaped [1, 28, 28] f32 images in memory (uniform on [0, 1); the label is the
78-pixel band of the flattened image with the largest sum, as tapegrad's synthetic set;
torch's own generator, so the pixels differ, which does not change the work), batch 64,
contiguous batches, conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2,
flatten, 400→120 ReLU → 84 ReLU → 10, cross-entropy, SGD lr 0.05; 10 warm-up steps, then
one timed epoch (937 steps). Prints `w5_lenet_bs64 torch THREADS sec_per_epoch S`.

    /tmp/venv/bin/python bench/w5_lenet_torch.py 1    # threads (torch.set_num_threads)
"""

import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)

N, BS = 60_000, 64
x = torch.rand(N, 784)
labels = x[:, :780].view(N, 10, 78).sum(-1).argmax(-1)
x = x.view(N, 1, 28, 28).contiguous()

model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
loss_fn = nn.CrossEntropyLoss()


def step(i):
    xb, yb = x[i * BS:(i + 1) * BS], labels[i * BS:(i + 1) * BS]
    loss = loss_fn(model(xb), yb)
    opt.zero_grad()
    loss.backward()
    opt.step()


for i in range(10):
    step(i)
batches = N // BS
start = time.perf_counter()
for i in range(batches):
    step(i)
seconds = time.perf_counter() - start
with torch.no_grad():
    check = loss_fn(model(x[:1000]), labels[:1000]).item()
print(f"torch w5 final loss(first 1000) = {check:.4f}", file=sys.stderr)
print(f"w5_lenet_bs64 torch {threads} sec_per_epoch {seconds:.6f}")
