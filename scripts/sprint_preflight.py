"""Check a GPU sprint against the device tool's limits before it starts (run it here).

- What travels: the working tree (tracked files, and untracked files git does not ignore)
  plus the carried paths (the data pack), at most 64 MiB;
- what comes back from $OUT: the files the configured sprint writes (its generator, its
  resumable state parts, log and report), at most 8 files of under 16 MiB, 64 MiB in all.

    python scripts/sprint_preflight.py [--config configs/sprint.yaml] [--carry sprint_pack]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deblurgan.nets.architectures import build_generator
from deblurgan.schema import ConfigError
from deblurgan.train.sprint_config import load_sprint_config
from deblurgan.train.sprint_files import (
    MIB,
    LimitError,
    check_expected,
    check_travel,
    expected_outputs,
)


def main(argv: list[str] | None = None) -> int:
    """Print both checks; exit 1 when a limit would be broken, 2 on a bad configuration."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--config", type=Path, default=root / "configs" / "sprint.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--carry", action="append", default=None, help="carried paths")
    parser.add_argument("--limit-mib", type=float, default=64.0)
    args = parser.parse_args(argv)
    carry = [Path(c) for c in (args.carry if args.carry is not None else ["sprint_pack"])]
    try:
        config = load_sprint_config(args.config, args.overrides)
        sizes = check_travel(root, carry, args.limit_mib)
        print("travels: " + ", ".join(f"{k} {v / MIB:.1f} MiB" for k, v in sizes.items()))
        generator = build_generator(config.model.architecture, config.model.generator_arguments())
        g = sum(p.numel() for p in generator.parameters())
        d = 0
        if config.loss.gan != "none":
            from deblurgan.nets import Critic

            critic = Critic(ndf=config.model.ndf, n_layers=config.model.n_layers)
            d = sum(p.numel() for p in critic.parameters())
        files = expected_outputs(g, d, config.run.max_file_mib)
        print(f"comes back: {len(files)} files, about {sum(files.values()) / MIB:.1f} MiB "
              f"(largest {max(files.values()) / MIB:.1f} MiB)")  # fmt: skip
        check_expected(files, config.run.max_files, config.run.max_file_mib,
                       config.run.max_total_mib)  # fmt: skip
    except ConfigError as err:
        print(f"sprint_preflight: error: {err}", file=sys.stderr)
        return 2
    except LimitError as err:
        print(f"sprint_preflight: {err}", file=sys.stderr)
        return 1
    print("within the limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
