"""PyTorch peer of the bench, run by bench/peers.ts with /usr/bin/python3 (Debian's python3-torch):
    python3 bench/peers/torch_peer.py <dir>
Reads the same raw float32 inputs as the JS peers, runs on one thread (torch.set_num_threads(1)),
prints one JSON line per case and writes the matmul product to <dir>/torch-cpu-matmul.f32."""
import json
import os
import sys
import time

import torch

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
torch.set_num_threads(1)


def load(name, *shape):
    with open(os.path.join(d, name + ".f32"), "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32).reshape(*shape).clone()


def emit(**r):
    print(json.dumps({"peer": "torch", "backend": "cpu", "version": torch.__version__, "threads": torch.get_num_threads(), **r}), flush=True)


N, dims, lr = meta["n"], meta["dims"], meta["lr"]
a, b = load("a", N, N), load("b", N, N)
for _ in range(2):
    c = a.mm(b)
samples = []
for _ in range(meta["reps"]):
    t0 = time.perf_counter()
    c = a.mm(b)
    samples.append((time.perf_counter() - t0) * 1000)
with open(os.path.join(d, "torch-cpu-matmul.f32"), "wb") as f:
    f.write(c.contiguous().numpy().tobytes())
emit(case="matmul", samples=samples)

B, I, H, O = dims["B"], dims["I"], dims["H"], dims["O"]
x, y = load("x", B, I), load("y", B, O)


def run(n):
    """The seed's autograd section, line for line."""
    w1 = load("w1", I, H).requires_grad_()
    w2 = load("w2", H, O).requires_grad_()
    losses = []
    for t in range(1, n + 1):
        y_pred = x.mm(w1).clamp(min=0).mm(w2)
        loss = (y_pred - y).pow(2).sum()
        if t == min(n, 100) or t == n:
            losses.append([t, loss.item()])
        loss.backward()
        with torch.no_grad():
            w1 -= lr * w1.grad
            w2 -= lr * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
    return losses


run(meta["warmSteps"])
t0 = time.perf_counter()
losses = run(meta["steps"])
emit(case="net", samples=[(time.perf_counter() - t0) * 1000], losses=losses)
