"""Runs jobs with one model in memory: the part of the job queue that touches the model.

A :class:`JobRunner` builds the method a job asks for (only when the options differ from
the previous job's, freeing the old model first) and runs the job through
:func:`~deblurgan.serve.work.deblur_upload`. It runs in the queue's own thread, or inside
a :class:`~deblurgan.serve.worker.WorkerProcess` that can be stopped at any moment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deblurgan.serve.estimate import ESTIMATED_METHODS, Route, Speed
from deblurgan.serve.work import (
    LOADING,
    Cancelled,
    DeblurFn,
    Outcome,
    Progress,
    StageFn,
    StageRelay,
    deblur_upload,
)


@dataclasses.dataclass(frozen=True)
class JobOptions:
    """What a user picks on the page; ``model`` is a name given at start-up, never a path;
    ``method`` a name of :data:`deblurgan.methods.METHODS`."""

    method: str = "network"
    model: str = "bundled"
    precision: str = "fp32"
    tile: int | None = None


# Builds the model for a job's options; ``on_stage`` goes to methods that report stages
# (MethodOptions.on_stage). A WorkerProcess needs it picklable (a module-level function or a
# functools.partial of one).
MakeDeblurrer = Callable[[JobOptions, StageFn], DeblurFn]


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """One job as the runner needs it: files in the queue's folder, options, and the
    network's speeds measured so far with these options (see :mod:`deblurgan.serve.estimate`)."""

    source: Path
    target: Path
    previews: tuple[Path, Path]
    options: JobOptions
    speeds: dict[Route, Speed] | None = None


class JobRunner:
    """Holds one model and runs jobs with it.

    Args:
        make_deblurrer: Builds the model for a job's options.
        max_pixels: Images above this are refused with a message.
    """

    def __init__(self, make_deblurrer: MakeDeblurrer, max_pixels: int | None) -> None:
        self.make_deblurrer, self.max_pixels = make_deblurrer, max_pixels
        self.relay = StageRelay()
        self._model: tuple[JobOptions, DeblurFn] | None = None

    def run(
        self, request: JobRequest, progress: Progress, cancelled: Callable[[], bool]
    ) -> Outcome:
        """Run one job, updating ``progress``.

        Raises:
            Cancelled: ``cancelled()`` became True (checked between frames, and at every
                stage a method reports).
        """
        self.relay.attach(progress, cancelled)
        try:
            deblur = self._deblurrer(request.options, progress)
            if cancelled():
                raise Cancelled
            estimated = request.options.method in ESTIMATED_METHODS
            return deblur_upload(
                deblur,
                request.source,
                request.target,
                progress,
                (request.speeds or {}) if estimated else None,
                self.max_pixels,
                cancelled,
                request.previews,
            )
        finally:
            self.relay.attach(None, lambda: False)

    def _deblurrer(self, options: JobOptions, progress: Progress) -> DeblurFn:
        if self._model is None or self._model[0] != options:
            progress.set_stage(LOADING)
            self._model = None  # free the old model before building the next
            self._model = (options, self.make_deblurrer(options, self.relay))
        return self._model[1]


def build_job_method(
    base: Any, models: dict[str, str | None], options: JobOptions, on_stage: StageFn
) -> DeblurFn:
    """The method a page job asks for (``deblurgan serve``'s ``make_deblurrer``, as
    ``functools.partial(build_job_method, base, models)``: picklable, and light to import
    in the worker process).

    Args:
        base: :class:`~deblurgan.methods.MethodOptions` from the command line (device,
            backend).
        models: Model name -> checkpoint path (None: the bundled model).
        options: The job's choices.
        on_stage: Given to methods that report their stages (it raises to cancel).
    """
    from deblurgan.methods import build_method

    fields = {f.name for f in dataclasses.fields(base)}
    extra = {"on_stage": on_stage} if "on_stage" in fields else {}
    method_options = dataclasses.replace(
        base,
        weights=models[options.model],
        precision=options.precision,
        tile=options.tile,
        **extra,
    )
    return build_method(options.method, method_options)
