"""The outcome of a batch over many files."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path


@dataclasses.dataclass
class BatchReport:
    """What a batch did: outputs written, outputs skipped, failures with causes, notes
    about files that were processed (e.g. no blur found), what an automatic method
    decided for each file (:attr:`deblurgan.restoration.Restoration.decision`), and warnings
    about the output as a whole (shown even when quiet)."""

    written: list[Path] = dataclasses.field(default_factory=list)
    skipped: list[Path] = dataclasses.field(default_factory=list)
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    notes: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    decisions: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        """The counts, then one line per decision, per note and per failure, for the terminal."""
        lines = [
            f"{len(self.written)} written, {len(self.skipped)} skipped, {len(self.failed)} failed"
        ]
        lines += [f"  decided {name}: {decision}" for name, decision in self.decisions]
        lines += [f"  note {name}: {note}" for name, note in self.notes]
        lines += [f"  FAILED {name}: {cause}" for name, cause in self.failed]
        return "\n".join(lines)

    def finish(self, quiet: bool = False, prefix: str = "") -> int:
        """Print the summary (to stderr if anything failed) and the warnings (to stderr), and
        return the exit status."""
        if self.failed or not quiet:
            print(prefix + self.summary(), file=sys.stderr if self.failed else sys.stdout)
        for warning in self.warnings:
            print(f"{prefix}warning: {warning}", file=sys.stderr)
        return 1 if self.failed else 0
