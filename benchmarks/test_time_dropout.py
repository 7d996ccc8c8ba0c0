"""Does the paper's test-time dropout change PSNR? And how close is bf16 to fp32?

Measured on real GoPro pairs (``../shared/data/gopro_pairs``). With
``--weights`` an existing checkpoint is used; otherwise a small generator
(dropout 0.5) is first fitted for a few minutes with an L1 content loss on
random crops of the other pairs, which is enough for the network to learn a
real residual and so for dropout to matter.

    python benchmarks/test_time_dropout.py [--weights W] [--iterations 600] [--seeds 5]

Prints a table: PSNR of the blurred input, of deterministic inference, of
stochastic inference (mean and spread over seeds), and fp32-vs-bf16 PSNR
(nan on CPUs without native bf16, where bf16 is impractically slow).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import trange

from deblurgan import Deblurrer, Generator, init_weights, load_generator, read_image
from deblurgan.checkpoint import save_generator
from deblurgan.hardware import cpu_has_native_bf16
from deblurgan.metrics import psnr
from deblurgan.nets.tensors import rgb_to_tensor

PAIRS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gopro_pairs"
HELD_OUT = 3  # the last pairs by name are only evaluated


def fit_pilot(train: list[tuple[np.ndarray, np.ndarray]], iterations: int, seed: int) -> Generator:
    """A few minutes of L1 training on random 128x128 crops (batch 4)."""
    g = torch.Generator().manual_seed(seed)
    net = init_weights(Generator(ngf=16, n_blocks=3), generator=g).train()
    opt = torch.optim.Adam(net.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(seed)
    tensors = [(rgb_to_tensor(b)[0], rgb_to_tensor(s)[0]) for b, s in train]
    for _ in trange(iterations, desc="pilot L1 fit"):
        blur, sharp = [], []
        for _ in range(4):
            b, s = tensors[rng.integers(len(tensors))]
            y, x = rng.integers(0, b.shape[1] - 128), rng.integers(0, b.shape[2] - 128)
            blur.append(b[:, y : y + 128, x : x + 128])
            sharp.append(s[:, y : y + 128, x : x + 128])
        loss = (net(torch.stack(blur), dropout_rng=g) - torch.stack(sharp)).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights", type=Path, help="checkpoint to evaluate (default: fit a pilot)"
    )
    parser.add_argument("--iterations", type=int, default=600, help="pilot training iterations")
    parser.add_argument("--seeds", type=int, default=5, help="stochastic runs per image")
    parser.add_argument("--save", type=Path, help="where to save the pilot checkpoint")
    args = parser.parse_args()
    names = sorted(p.name for p in (PAIRS / "blur").iterdir())
    pairs = [
        (read_image(PAIRS / "blur" / n).rgb, read_image(PAIRS / "sharp" / n).rgb) for n in names
    ]
    train, test = pairs[:-HELD_OUT], pairs[-HELD_OUT:]
    start = time.perf_counter()
    if args.weights:
        net = load_generator(args.weights)
        origin = str(args.weights)
    else:
        net = fit_pilot(train, args.iterations, seed=0)
        origin = f"pilot: ngf 16, 3 blocks, {args.iterations} L1 iterations"
        if args.save:
            save_generator(net, args.save, training={"pilot_l1_iterations": args.iterations})
    fit_s = time.perf_counter() - start

    plain = Deblurrer(net, precision="fp32")
    fp_bf = Deblurrer(net, precision="bf16") if cpu_has_native_bf16() else None
    rows = []
    for name, (blurred, sharp) in zip(names[-HELD_OUT:], test):
        deterministic = plain(blurred)
        stochastic = [
            psnr(Deblurrer(net, stochastic=True, seed=s)(blurred), sharp) for s in range(args.seeds)
        ]
        rows.append(
            (
                name,
                psnr(blurred, sharp),
                psnr(deterministic, sharp),
                np.mean(stochastic),
                np.std(stochastic),
                psnr(fp_bf(blurred), deterministic) if fp_bf else np.nan,
            )
        )
    print(f"model: {origin} (prepared in {fit_s:.0f} s); held-out pairs: {HELD_OUT}")
    print(f"| {'pair':44} | blurred | determ. | stochastic (mean +- sd) | bf16 vs fp32 |")
    print(f"|{'-' * 46}|---------|---------|-------------------------|--------------|")
    for name, b, d, m, sd, bf in rows:
        print(f"| {name:44} | {b:7.2f} | {d:7.2f} | {m:15.2f} +- {sd:4.2f} | {bf:9.1f} dB |")
    means = np.mean([r[1:] for r in rows], axis=0)
    print(
        f"| {'mean':44} | {means[0]:7.2f} | {means[1]:7.2f} | {means[2]:15.2f} +- {means[3]:4.2f} "
        f"| {means[4]:9.1f} dB |"
    )


if __name__ == "__main__":
    main()
