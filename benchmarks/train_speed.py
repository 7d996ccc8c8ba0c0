"""Seconds per training iteration (5 critic steps + 1 generator step), paper configuration.

256x256 crops, batch 1, ngf 64 / 9 blocks, PatchGAN ndf 64, WGAN-GP + 100 x perceptual.
Compares, in one run:

- a plain eager fp32 loop (F.dropout, separate critic passes for real and fake),
- our ``critic_step`` / ``generator_step`` in fp32, channels_last fp32, and bf16
  autocast (only where the CPU has native bf16; elsewhere it is ~100x slower),

reports achieved GFLOP/s at 829 GFLOP per iteration (the count given for this
configuration in the project's training issue; ``torch.utils.flop_counter``
cannot follow the gradient penalty's double backward), the share of this
machine's fp32 matmul ceiling measured in the same run, and the top ops of a
profile.

    python benchmarks/train_speed.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import torch
import torch.nn.functional as F

from deblurgan.hardware import cpu_has_native_bf16
from deblurgan.nets import Critic, Generator, init_weights
from deblurgan.runtime import autocast
from deblurgan.train.config import LossConfig
from deblurgan.train.losses import gradient_penalty
from deblurgan.train.steps import critic_step, generator_step
from deblurgan.train.vgg import load_vgg19_conv33


def matmul_ceiling(dtype: torch.dtype = torch.float32, n: int = 2048, repeats: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="timed iterations per variant")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    g = torch.Generator().manual_seed(0)
    generator = init_weights(Generator(), generator=g).train()
    critic = init_weights(Critic(), generator=g).train()
    vgg = load_vgg19_conv33()
    paper = LossConfig()  # WGAN-GP (10) + 100 x perceptual
    opt_g = torch.optim.Adam(generator.parameters(), 1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(critic.parameters(), 1e-4, betas=(0.5, 0.999))
    shape = (1, 3, args.size, args.size)
    batches = [(torch.rand(shape) * 2 - 1, torch.rand(shape) * 2 - 1) for _ in range(6)]

    def ours(amp=None, memory=torch.contiguous_format):
        for blurred, sharp in batches[:5]:
            blurred, sharp = (t.contiguous(memory_format=memory) for t in (blurred, sharp))
            critic_step(generator, critic, opt_d, blurred, sharp, loss=paper, rng=g, autocast=amp)
        blurred, sharp = batches[5]
        generator_step(
            generator, critic, opt_g, blurred, sharp, loss=paper, rng=g, features=vgg, autocast=amp
        )

    def plain():
        with mock.patch(
            "deblurgan.nets.generator.seeded_dropout",
            lambda x, p, rng: F.dropout(x, p, training=True),
        ):
            for blurred, sharp in batches[:5]:
                with torch.no_grad():
                    fake = generator(blurred)
                loss = (
                    critic(fake).mean()
                    - critic(sharp).mean()
                    + 10 * gradient_penalty(critic, sharp, fake)
                )
                opt_d.zero_grad()
                loss.backward()
                opt_d.step()
            blurred, sharp = batches[5]
            restored = generator(blurred)
            loss = -critic(restored).mean() + 100 * F.mse_loss(vgg(restored), vgg(sharp).detach())
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()

    variants = {
        "plain eager fp32 loop (reference)": plain,
        "ours, fp32": ours,
        "ours, fp32 channels_last": lambda: ours(memory=torch.channels_last),
    }
    if cpu_has_native_bf16():
        variants["ours, bf16 autocast"] = lambda: ours(autocast(torch.device("cpu"), "bf16"))

    flops = 829e9 * (args.size / 256) ** 2
    ceiling = matmul_ceiling()
    times = {}
    for name, fn in variants.items():
        fn()  # warm-up
        start = time.perf_counter()
        for _ in range(args.repeats):
            fn()
        times[name] = (time.perf_counter() - start) / args.repeats

    reference = times["plain eager fp32 loop (reference)"]
    print(
        f"threads {torch.get_num_threads()}, {args.size}x{args.size}, batch 1; "
        f"{flops / 1e9:.0f} GFLOP per iteration; fp32 matmul ceiling {ceiling:.0f} GFLOP/s; "
        f"native bf16: {cpu_has_native_bf16()}"
    )
    print(f"| {'variant':36} | s / iteration | vs reference | GFLOP/s | share of fp32 ceiling |")
    print(f"|{'-' * 38}|---------------|--------------|---------|-----------------------|")
    for name, seconds in times.items():
        rate = flops / seconds / 1e9
        print(
            f"| {name:36} | {seconds:13.2f} | {reference / seconds:11.2f}x | {rate:7.0f} | "
            f"{rate / ceiling:20.0%} |"
        )
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        ours()
    print("\nwhere the time goes (ours, fp32, one iteration):")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=10))


if __name__ == "__main__":
    main()
