"""How well a generator generalises: one table over seen-recording, unseen-recording and
synthetic-free sets, plus "do no harm" on sharp photos.

Sets (from ``scripts/prepare_data.sh SHARED/data DATA``, and ``SHARED/data``):

- (a) same recording, other moments: ``DATA/gopro_same_scene`` and ``DATA/avg_heldout``
  (GOPR0477, the training recording);
- (b) another recording: ``DATA/gopro_val`` (GOPR0374, the validation set);
- (c) ``gopro_crops256`` (GoPro test recordings; DeblurGAN-v2's outputs beside);
- (d) Levin 2009 (camera-shake kernels, aligned before scoring);
- (e) do no harm: held-out sharp photos (``DATA/sharp_heldout``, Kodak24) through the
  model, PSNR of the output against its own input (high is good);
- (f) uniform and (g) rotational camera shake made here on photos never used for tuning
  (``benchmarks/shake_sets.py``), aligned before scoring; what ``auto`` chose is listed per
  image.

Per set: mean PSNR / SSIM of the input and the output, mean gain, and the worst single
image's gain. With ``--against REF`` it also checks each model against REF by the ship rule
of the bundled model (MODEL_CARD.md): see :func:`ship_verdict`. Usage:

    python benchmarks/generalization.py --weights RUN/generator.safetensors \
        --data /work/data [--shared ../shared] [--against bundled] [--json OUT.json]
    python benchmarks/generalization.py --method l0 --data /work/data   # blind deconvolution
    python benchmarks/generalization.py --method auto --data /work/data --sets f g
    python benchmarks/generalization.py --method l0 --data /work/data --sets a b c --gopro-align 8

GoPro's sets are scored unaligned by default (the model card's protocol), but a GoPro
pair's sharp frame sits up to 4.7 px from where its blurred average is (docs/auto.md, round
16), which costs a method that sharpens more than one that does not: ``--gopro-align 8``
aligns them as (d), (f) and (g) are.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from deblurgan.data.eval_sets import find_eval_items
from deblurgan.evaluation.evaluate import evaluate, summarise
from deblurgan.evaluation.scoring import score
from deblurgan.io.images import read_image
from deblurgan.methods import METHODS, DeblurMethod, MethodOptions, build_method
from deblurgan.metrics import psnr, ssim

try:
    from shake_sets import shake_sets
except ImportError:  # run from elsewhere than benchmarks/
    from benchmarks.shake_sets import shake_sets

SHARED = Path(__file__).resolve().parents[2] / "shared"


def paired_sets(
    data: Path, shared: Path, gopro_align: int = 0
) -> dict[str, tuple[list[Path], int]]:
    """Set name -> (roots to evaluate, alignment radius); GoPro's sets (a)-(c) aligned within
    ``gopro_align`` pixels (0: not aligned, the model card's protocol)."""
    return {
        "(a) same recording": ([data / "gopro_same_scene", data / "avg_heldout"], gopro_align),
        "(b) GOPR0374 (val)": ([data / "gopro_val"], gopro_align),
        "(c) gopro_crops256": ([shared / "data" / "gopro_crops256"], gopro_align),
        "(d) Levin 2009": ([shared / "data" / "levin2009"], 8),
    }


def print_image(set_name: str, key: str, gain: float, decision: str) -> None:
    """One image's gain and what the method decided for it."""
    print(f"  {set_name} {key:32} {gain:+6.2f} dB  {decision}", flush=True)


def shake_rows(deblur: DeblurMethod, shared: Path, wanted: set[str]) -> dict[str, dict]:
    """Rows of the shake sets (f) and (g), with each image's decision when the method
    makes one."""
    rows = {}
    for name, items in shake_sets(shared).items():
        if name[1] not in wanted:
            continue
        gains, inputs, outputs, decisions = [], [], [], []
        for key, blurred, sharp in items:
            restored = deblur.restore(blurred)
            before, after = score(blurred, sharp, align=8), score(restored.rgb, sharp, align=8)
            inputs.append(before)
            outputs.append(after)
            gains.append(after["psnr"] - before["psnr"])
            decisions.append(restored.decision or restored.note or "")
            print_image(name, key, gains[-1], decisions[-1])
        rows[name] = {
            "images": len(items),
            "input_psnr": float(np.mean([s["psnr"] for s in inputs])),
            "input_ssim": float(np.mean([s["ssim"] for s in inputs])),
            "psnr": float(np.mean([s["psnr"] for s in outputs])),
            "ssim": float(np.mean([s["ssim"] for s in outputs])),
            "gain": float(np.mean(gains)),
            "worst_gain": float(min(gains)),
            "worst": items[int(np.argmin(gains))][0],
            "other_gain": None,
            "decisions": decisions,
        }
    return rows


def report(
    deblur: DeblurMethod,
    data: Path,
    shared: Path,
    wanted: frozenset[str] = frozenset("abcdefg"),
    gopro_align: int = 0,
) -> dict[str, dict]:
    rows = {}
    for name, (roots, align) in paired_sets(data, shared, gopro_align).items():
        if name[1] not in wanted:
            continue
        results = []
        for root in roots:
            items, _ = find_eval_items(root)
            results += evaluate(
                items, deblur, other_name="DeblurGAN-v2", align=align, progress=False, warm_up=False
            )
        summary = summarise(results)
        gains = [r.scores["ours"]["psnr"] - r.scores["blurred"]["psnr"] for r in results]
        for result, gain in zip(results, gains):
            if result.decision:
                print_image(name, result.key, gain, result.decision)
        rows[name] = {
            "images": len(results),
            "input_psnr": summary["blurred"]["psnr"],
            "input_ssim": summary["blurred"]["ssim"],
            "psnr": summary["ours"]["psnr"],
            "ssim": summary["ours"]["ssim"],
            "gain": summary["ours"]["psnr_gain"],
            "worst_gain": float(min(gains)),
            "worst": results[int(np.argmin(gains))].key,
            "other_gain": summary.get("DeblurGAN-v2", {}).get("psnr_gain"),
        }
    rows.update(shake_rows(deblur, shared, wanted))
    if "e" not in wanted:
        return rows
    sharp_paths = sorted((data / "sharp_heldout").iterdir())
    scores = []
    for path in sharp_paths:
        image = read_image(path).rgb
        out = deblur(image)
        scores.append((psnr(out, image), ssim(out, image), path.name))
    worst = min(scores)
    rows["(e) do no harm"] = {
        "images": len(scores),
        "psnr": float(np.mean([s[0] for s in scores])),
        "ssim": float(np.mean([s[1] for s in scores])),
        "worst_psnr": float(worst[0]),
        "worst": worst[2],
    }
    return rows


# The ship rule: a candidate replaces the bundled model only if it beats it on these sets, no
# image of them loses more than WORST_LOSS_DB against its blurred input, and sharp photos come
# out at least as intact as with the bundled model (mean and worst image).
RULE_SETS = ("(b) GOPR0374 (val)", "(c) gopro_crops256", "(d) Levin 2009")
HARM_SET = "(e) do no harm"
WORST_LOSS_DB = 0.3


def ship_verdict(candidate: dict[str, dict], reference: dict[str, dict]) -> list[tuple[str, bool]]:
    """Each clause of the ship rule for ``candidate`` against ``reference`` (rows of
    :func:`report`), as ``(clause with the figures, passed)``."""
    clauses = []
    for name in RULE_SETS:
        new, old = candidate[name], reference[name]
        clauses.append(
            (
                f"{name}: mean gain {new['gain']:+.2f} > {old['gain']:+.2f} dB",
                new["gain"] > old["gain"],
            )
        )
        clauses.append(
            (
                f"{name}: worst image {new['worst_gain']:+.2f} >= {-WORST_LOSS_DB:+.2f} dB",
                new["worst_gain"] >= -WORST_LOSS_DB,
            )
        )
    new, old = candidate[HARM_SET], reference[HARM_SET]
    for key, label in (("psnr", "mean"), ("worst_psnr", "worst image")):
        clauses.append(
            (f"{HARM_SET}: {label} {new[key]:.2f} >= {old[key]:.2f} dB", new[key] >= old[key])
        )
    return clauses


def print_verdict(label: str, clauses: list[tuple[str, bool]]) -> None:
    print(f"\nship rule, {label}: {'PASS' if all(ok for _, ok in clauses) else 'FAIL'}")
    for clause, ok in clauses:
        print(f"  {'pass' if ok else 'FAIL'}  {clause}")


def print_table(label: str, rows: dict[str, dict]) -> None:
    print(f"\n{label}")
    print(
        f"{'set':22}{'n':>4}{'input dB/SSIM':>16}{'output dB/SSIM':>17}{'gain':>8}"
        f"{'worst':>8}  {'DeblurGAN-v2 gain':>17}"
    )
    for name, r in rows.items():
        if "gain" in r:
            other = f"{r['other_gain']:+.2f}" if r["other_gain"] is not None else ""
            print(
                f"{name:22}{r['images']:4d}{r['input_psnr']:9.2f}/{r['input_ssim']:.3f}"
                f"{r['psnr']:10.2f}/{r['ssim']:.3f}{r['gain']:+8.2f}{r['worst_gain']:+8.2f}"
                f"  {other:>17}"
            )
        else:
            print(
                f"{name:22}{r['images']:4d}{'(output vs input)':>16}{r['psnr']:10.2f}/"
                f"{r['ssim']:.3f}{'':8}{r['worst_psnr']:8.2f} dB worst ({r['worst']})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--weights",
        nargs="+",
        default=["bundled"],
        help="checkpoints to report ('bundled': the packaged model)",
    )
    parser.add_argument("--data", type=Path, required=True, help="output of prepare_data.sh")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--json", type=Path, help="also write the tables as JSON")
    parser.add_argument(
        "--against", help="check each model by the ship rule against this one ('bundled' too)"
    )
    parser.add_argument(
        "--sets", nargs="+", default=list("abcdefg"), help="which sets (letters a-g; default all)"
    )
    parser.add_argument(
        "--gopro-align",
        type=int,
        default=0,
        help="align GoPro's sets (a)-(c) within this many pixels before scoring (their sharp "
        "frames sit up to 4.7 px from where the blurred average is: docs/auto.md)",
    )
    parser.add_argument("--precision", default="fp32", help="fp32 (default), bf16 or int8")
    parser.add_argument("--backend", default="torch", help="torch (default) or openvino")
    parser.add_argument(
        "--method",
        choices=list(METHODS),
        default="network",
        help="network (one table per --weights) or another method (one table)",
    )
    args = parser.parse_args()
    tables = {}
    names = args.weights if args.method == "network" else [args.method]
    order = [args.against] if args.against and args.against not in names else []
    for name in order + names:
        network = args.method == "network" or name == args.against
        options = MethodOptions(
            weights=name if network and name != "bundled" else None,
            backend=args.backend,
            precision=args.precision,
        )
        method = build_method("network" if network else args.method, options)
        tables[name] = report(method, args.data, args.shared, set(args.sets), args.gopro_align)
        print_table(name, tables[name])
    if args.against:
        for name in names:
            if name != args.against:
                print_verdict(name, ship_verdict(tables[name], tables[args.against]))
    if args.json:
        args.json.write_text(json.dumps(tables, indent=2))


if __name__ == "__main__":
    main()
