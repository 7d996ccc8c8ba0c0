"""A GPU sprint: train a generator for a fixed wall-clock budget on a data pack held on
the device, checkpoint into the output folder every few minutes, evaluate on the
pack's held-out sets and print one table.

Read top to bottom: :func:`run_sprint` checks the outputs' limits with a first
checkpoint, then runs :func:`train_for` (every batch made on the device by
:class:`~deblurgan.train.sprint_data.SprintBatches`; :func:`generator_update` and, with
an adversarial loss, the paper's :func:`~deblurgan.train.steps.critic_step`), then
:func:`~deblurgan.train.sprint_eval.evaluate_sets`. A sprint continues from the state
files of an earlier one (``resume``): networks, optimisers, step and random state; its
learning rate restarts the cosine at ``optim.resume_lr_scale`` of the peak.

Output folder: ``generator.safetensors`` (loadable by ``deblurgan deblur --weights``),
``sprint_state-*.bin`` (resumable state), ``sprint_log.jsonl`` and ``sprint_report.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from deblurgan.checkpoint import save_generator
from deblurgan.nets import Critic, init_weights
from deblurgan.nets.architectures import build_generator
from deblurgan.runtime import autocast, check_precision, resolve_device
from deblurgan.train.config import LossConfig
from deblurgan.train.losses import content_loss, generator_adversarial_loss
from deblurgan.train.sprint_config import SprintConfig
from deblurgan.train.sprint_data import SprintBatches, load_pack
from deblurgan.train.sprint_eval import evaluate_sets, format_table
from deblurgan.train.sprint_files import (
    MIB,
    check_outputs,
    environment_line,
    read_state,
    write_state,
)
from deblurgan.train.steps import critic_step

LOG = "sprint_log.jsonl"
REPORT = "sprint_report.md"
WEIGHTS = "generator.safetensors"


@dataclasses.dataclass
class Networks:
    """What a sprint trains: the generator, its optimiser, and the critic with its optimiser
    (None without an adversarial loss)."""

    generator: nn.Module
    opt_g: torch.optim.Optimizer
    critic: nn.Module | None = None
    opt_d: torch.optim.Optimizer | None = None


def lr_at(fraction: float, warmup: float, floor: float) -> float:
    """The schedule's factor at ``fraction`` of the time budget: a linear warm-up over
    ``warmup``, then a cosine from 1 down to ``floor``.

    Examples:
        >>> [round(lr_at(f, 0.0, 0.0), 3) for f in (0.0, 0.5, 1.0)]
        [1.0, 0.5, 0.0]
    """
    fraction = min(max(fraction, 0.0), 1.0)
    if fraction < warmup:
        return max(fraction / warmup, 1e-3)
    done = (fraction - warmup) / max(1.0 - warmup, 1e-9)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * done))


def psnr_loss(restored: torch.Tensor, sharp: torch.Tensor) -> torch.Tensor:
    """Minus the mean per-image PSNR in dB (images in [-1, 1], peak 1 after rescaling).

    Shape:
        - restored, sharp: :math:`(B, C, H, W)`; output a scalar.
    """
    mse = ((restored - sharp) / 2).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(mse + 1e-10).mean()


def content_term(
    kind: str, restored: torch.Tensor, sharp: torch.Tensor, features: nn.Module | None
) -> torch.Tensor:
    """The configured content loss: ``psnr`` (:func:`psnr_loss`) or one of
    :func:`~deblurgan.train.losses.content_loss`'s (``l1``, ``mse``, ``perceptual``)."""
    if kind == "psnr":
        return psnr_loss(restored, sharp)
    return content_loss(kind, restored, sharp, features)


def generator_update(
    generator: nn.Module,
    nets: Networks,
    blurred: torch.Tensor,
    sharp: torch.Tensor,
    config: SprintConfig,
    features: nn.Module | None,
    amp: contextlib.AbstractContextManager,
    rng: torch.Generator,
) -> dict[str, torch.Tensor]:
    """One generator step: ``content_weight x content (+ adversarial_weight x adversarial)``.

    With ``gan: wgan-gp``, ``adversarial_weight: 1`` and ``content: perceptual`` at 100,
    this is the paper's generator loss (as :func:`~deblurgan.train.steps.generator_step`).

    Args:
        generator: The network as trained (possibly compiled).
        nets: The plain networks and optimisers (the critic is frozen for this step).

    Returns:
        Detached losses (no device synchronisation): ``loss``, ``content`` and, with an
        adversarial term, ``adversarial``.

    Shape:
        - blurred, sharp: :math:`(B, 3, H, W)` in [-1, 1].
    """
    loss = config.loss
    critic = nets.critic
    if critic is not None:
        critic.requires_grad_(False)
    try:
        with amp:
            dropout = {"dropout_rng": rng} if config.model.dropout > 0 else {}
            restored = generator(blurred, **dropout)
            content = content_term(loss.content, restored.float(), sharp, features)
            total = loss.content_weight * content
            logs = {"content": content.detach()}
            if critic is not None:
                adversarial = generator_adversarial_loss(loss.gan, critic, restored)
                total = total + loss.adversarial_weight * adversarial
                logs["adversarial"] = adversarial.detach()
        nets.opt_g.zero_grad(set_to_none=True)
        total.backward()
        if config.optim.grad_clip:
            nn.utils.clip_grad_norm_(nets.generator.parameters(), config.optim.grad_clip)
        nets.opt_g.step()
    finally:
        if critic is not None:
            critic.requires_grad_(True)
    return {"loss": total.detach(), **logs}


def build_networks(config: SprintConfig, device: torch.device) -> Networks:
    """The generator from the architecture table (the paper's N(0, 0.02) initialisation for
    ``resnet``, PyTorch's default for the others, drawn from ``run.seed``), its optimiser
    (AdamW) and, with an adversarial loss, the PatchGAN critic with Adam."""
    m, o = config.model, config.optim
    init_rng = torch.Generator().manual_seed(config.run.seed)
    generator = build_generator(m.architecture, m.generator_arguments())
    if m.architecture == "resnet":
        init_weights(generator, generator=init_rng)
    else:
        default_init(generator, init_rng)
    if m.identity_init:
        head = getattr(generator, "head", None)
        if not isinstance(head, nn.Conv2d):
            raise ValueError(f"model.identity_init: {m.architecture!r} has no head convolution")
        nn.init.zeros_(head.weight)
        if head.bias is not None:
            nn.init.zeros_(head.bias)
    memory = torch.channels_last if config.run.channels_last else torch.contiguous_format
    generator.to(device, memory_format=memory).train()
    opt_g = torch.optim.AdamW(
        generator.parameters(), lr=o.lr, betas=o.betas, weight_decay=o.weight_decay
    )
    if config.loss.gan == "none":
        return Networks(generator, opt_g)
    critic = init_weights(Critic(ndf=m.ndf, n_layers=m.n_layers), generator=init_rng)
    critic.to(device, memory_format=memory).train()
    opt_d = torch.optim.Adam(critic.parameters(), lr=o.critic_lr, betas=o.critic_betas)
    return Networks(generator, opt_g, critic, opt_d)


def default_init(module: nn.Module, generator: torch.Generator) -> nn.Module:
    """PyTorch's default initialisation of every convolution (Kaiming-uniform weights with
    ``a = sqrt(5)``, uniform biases), drawn from ``generator``."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
            if layer.bias is not None:
                fan_in = layer.weight[0].numel()
                bound = 1 / math.sqrt(fan_in)
                nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
    return module


def _state(nets: Networks, progress: dict, rng: torch.Generator, config: SprintConfig) -> dict:
    state = {
        "generator": nets.generator.state_dict(),
        "opt_g": nets.opt_g.state_dict(),
        "progress": progress,
        "rng": rng.get_state().cpu(),
        "config": json.dumps(config.to_dict()),
    }
    if nets.critic is not None:
        state |= {"critic": nets.critic.state_dict(), "opt_d": nets.opt_d.state_dict()}
    return state


def checkpoint(
    out: Path, nets: Networks, progress: dict, rng: torch.Generator, config: SprintConfig
) -> None:
    """Write the generator (float32, or float16 where float32 would not fit one file) and
    the resumable state, then check the folder against the return limits.

    Raises:
        LimitError: The folder would not come back whole.
    """
    r = config.run
    params = sum(p.numel() for p in nets.generator.parameters())
    dtype = torch.float32 if params * 4 < (r.max_file_mib - 1) * MIB else torch.float16
    summary = {"sprint": progress, "architecture": config.model.architecture}
    save_generator(nets.generator, out / WEIGHTS, training=summary, dtype=dtype)
    write_state(out, _state(nets, progress, rng, config), progress["step"], r.max_file_mib)
    check_outputs(out, r.max_files, r.max_file_mib, r.max_total_mib)


def resume(folder: Path, nets: Networks, rng: torch.Generator, config: SprintConfig) -> dict:
    """Load an earlier sprint's state from ``folder``; returns its progress.

    Raises:
        FileNotFoundError: No state in ``folder``.
        ValueError: The state was saved by a sprint with another model or loss.
    """
    state = read_state(folder)
    saved = json.loads(state["config"])
    for section in ("model", "loss"):
        if saved[section] != config.to_dict()[section]:
            raise ValueError(
                f"{folder} holds a sprint with other {section} settings: {saved[section]}"
            )
    nets.generator.load_state_dict(state["generator"])
    nets.opt_g.load_state_dict(state["opt_g"])
    if nets.critic is not None:
        nets.critic.load_state_dict(state["critic"])
        nets.opt_d.load_state_dict(state["opt_d"])
    rng.set_state(state["rng"])
    return state["progress"]


def train_for(
    config: SprintConfig,
    nets: Networks,
    batches: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    progress: dict,
    rng: torch.Generator,
    *,
    device: torch.device,
    features: nn.Module | None,
    out: Path,
    say: Callable[[str], None],
    peak: float,
) -> None:
    """Train until ``run.minutes`` have passed on ``run.clock`` since the first step, with a
    checkpoint every ``run.checkpoint_minutes``; ``progress`` is updated in place
    (``step``, ``crops``, ``seconds``)."""
    r, o = config.run, config.optim
    amp = autocast(device, r.precision)
    memory = torch.channels_last if r.channels_last else torch.contiguous_format
    use_compile = r.compile is True or (r.compile == "auto" and device.type == "cuda")
    g_train = torch.compile(nets.generator) if use_compile else nets.generator
    paper_loss = LossConfig(gan=config.loss.gan, gp_weight=config.loss.gp_weight)
    budget = r.minutes * 60
    clock = time.monotonic if r.clock == "wall" else time.process_time
    start = clock()
    last_checkpoint = start
    session_start_seconds, session_start_crops = progress["seconds"], progress["crops"]
    log = (out / LOG).open("a")
    try:
        while True:
            elapsed = clock() - start
            if elapsed >= budget:
                break
            for opt, base in ((nets.opt_g, peak), (nets.opt_d, peak * o.critic_lr / o.lr)):
                for group in opt.param_groups if opt is not None else ():
                    group["lr"] = base * lr_at(
                        elapsed / budget, o.warmup_fraction, o.min_lr_fraction
                    )
            logs: dict[str, Any] = {}
            if nets.critic is not None:
                for _ in range(config.loss.critic_steps):
                    b, s = (t.contiguous(memory_format=memory) for t in batches())
                    logs = critic_step(
                        nets.generator, nets.critic, nets.opt_d, b, s,
                        loss=paper_loss, rng=rng, autocast=amp,
                    )  # fmt: skip
                    progress["crops"] += len(b)
            blurred, sharp = (t.contiguous(memory_format=memory) for t in batches())
            losses = generator_update(g_train, nets, blurred, sharp, config, features, amp, rng)
            progress["step"] += 1
            progress["crops"] += len(blurred)
            now = clock()
            progress["seconds"] = session_start_seconds + now - start
            if progress["step"] % r.log_every == 0 or now - start >= budget:
                seconds = now - start
                line = {
                    "step": progress["step"],
                    "seconds": round(progress["seconds"], 2),
                    "lr": nets.opt_g.param_groups[0]["lr"],
                    "crops_per_s": round((progress["crops"] - session_start_crops) / seconds, 1),
                    **{k: round(float(v), 5) for k, v in {**losses, **logs}.items()},
                }
                log.write(json.dumps(line) + "\n")
                log.flush()
                say(" ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in line.items()))  # fmt: skip
            if now - last_checkpoint >= r.checkpoint_minutes * 60:
                checkpoint(out, nets, progress, rng, config)
                last_checkpoint = clock()
    finally:
        log.close()


def run_sprint(
    config: SprintConfig,
    resume_from: str | Path | None = None,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """The whole sprint: set up, check the limits with a first checkpoint, train for
    ``run.minutes``, checkpoint, evaluate on the pack's held-out sets, write the report.

    Args:
        config: The validated configuration.
        resume_from: A folder holding an earlier sprint's ``sprint_state-*`` files.
        say: Where progress lines go.

    Returns:
        ``progress`` (``step``, ``crops``, ``seconds``, ``sessions``), ``results`` (per
        set, :func:`~deblurgan.train.sprint_eval.evaluate_sets`) and ``table``.

    Raises:
        LimitError: The outputs would break the device tool's return limits.
        FileNotFoundError: No pack, or no state to resume from.
    """
    device = resolve_device(config.run.device)
    precision = check_precision(config.run.precision, device)
    out = Path(config.run.out)
    out.mkdir(parents=True, exist_ok=True)
    say(environment_line())
    started = time.monotonic()
    pack = load_pack(config.data.pack, device)
    rng = torch.Generator(device).manual_seed(config.run.seed)
    nets = build_networks(config, device)
    progress = {"step": 0, "crops": 0, "seconds": 0.0, "sessions": 0}
    peak = config.optim.lr
    if resume_from is not None:
        progress = resume(Path(resume_from), nets, rng, config)
        peak = config.optim.lr * config.optim.resume_lr_scale
        say(f"resumed from {resume_from} at step {progress['step']}")
    progress["sessions"] += 1
    features = None
    if config.loss.content == "perceptual":
        from deblurgan.train.vgg import load_vgg19_conv33

        features = load_vgg19_conv33(config.loss.vgg_weights).to(device)
    batches = SprintBatches(pack, config.data.batch, config.data.crop, config.data.mix, rng)
    params = sum(p.numel() for p in nets.generator.parameters())
    say(
        f"pack: {len(pack.photos)} photo tiles, {len(pack.real_blur)} real pairs, "
        f"{sum(map(len, pack.eval_sets.values()))} held-out pairs; generator "
        f"{config.model.architecture} {params / 1e6:.2f} M parameters; set-up "
        f"{time.monotonic() - started:.1f} s"
    )
    checkpoint(out, nets, progress, rng, config)  # the return limits, checked before training
    train_for(
        config, nets, batches, progress, rng,
        device=device, features=features, out=out, say=say, peak=peak,
    )  # fmt: skip
    checkpoint(out, nets, progress, rng, config)
    amp = autocast(device, precision)
    results = evaluate_sets(nets.generator, pack.eval_sets, device, config.data.eval_max_side, amp)
    table = format_table(results)
    report = (
        f"# Sprint report\n\n{environment_line()}\n\n"
        f"{config.model.architecture}, loss {config.loss.content}"
        f"{' + ' + config.loss.gan if config.loss.gan != 'none' else ''}; "
        f"{progress['step']} steps, {progress['crops']} crops in {progress['seconds']:.0f} s "
        f"of training over {progress['sessions']} session(s)\n\n{table}\n"
    )
    (out / REPORT).write_text(report)
    check_outputs(out, config.run.max_files, config.run.max_file_mib, config.run.max_total_mib)
    say(report)
    return {"progress": progress, "results": results, "table": table}
