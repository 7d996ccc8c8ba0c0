"""The web application of ``deblurgan serve``: a page and a small JSON API over a JobQueue.

Routes: ``/`` (the page) and ``/static/*`` (its script and style, served from the
package: it works offline); ``GET /api/info`` (models, precisions, limits);
``POST /api/jobs`` (multipart ``files`` plus ``model``, ``precision``, ``tile``);
``GET /api/jobs``; ``GET/DELETE /api/jobs/{id}``; ``POST /api/jobs/{id}/cancel``;
``GET /api/jobs/{id}/result`` (download), ``/before`` and ``/after`` (JPEG
previews); ``GET /api/results.zip``. Requests larger than the upload limit get
413 before anything is stored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import zipfile
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from deblurgan.serve.jobs import Job, JobOptions, JobQueue, safe_display_name

STATIC = Path(__file__).with_name("static")
CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class ServeSettings:
    """What the server offers; fixed at start-up.

    Attributes:
        models: Display name -> checkpoint path given at start-up (None: the bundled model).
        precisions: Precisions offered on the page; the first is the default.
        max_upload_bytes: Larger requests are refused with 413.
        max_pixels: Larger images fail with a message (the queue's limit).
    """

    models: dict[str, str | None]
    precisions: tuple[str, ...] = ("fp32",)
    max_upload_bytes: int = 512 * 2**20
    max_pixels: int | None = None


def create_app(queue: JobQueue, settings: ServeSettings) -> FastAPI:
    """The FastAPI application serving ``queue``; closing the app closes the queue."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        queue.close()

    app = FastAPI(
        title="deblurgan", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def limit_upload_size(request: Request, call_next):
        length = request.headers.get("content-length")
        if request.method == "POST" and length and int(length) > settings.max_upload_bytes:
            return _too_large(settings)
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/api/info")
    def info() -> dict:
        return {
            "models": list(settings.models),
            "precisions": list(settings.precisions),
            "max_upload_bytes": settings.max_upload_bytes,
            "max_pixels": settings.max_pixels,
        }

    @app.post("/api/jobs")
    async def submit(
        files: list[UploadFile],
        model: str = Form("bundled"),
        precision: str = Form(""),
        tile: int = Form(0),
    ) -> list[dict]:
        if model not in settings.models:
            raise HTTPException(400, f"unknown model {model!r}; offered: {list(settings.models)}")
        precision = precision or settings.precisions[0]
        if precision not in settings.precisions:
            raise HTTPException(400, f"precision {precision!r} is not offered here")
        if tile and tile < 64:
            raise HTTPException(400, "tile must be 0 (automatic) or at least 64 pixels")
        options = JobOptions(model=model, precision=precision, tile=tile or None)
        stored, budget = [], settings.max_upload_bytes
        try:
            for upload in files:
                name = safe_display_name(upload.filename)
                path = queue.new_upload_path(name)
                budget -= await _save(upload, path, budget)
                stored.append((name, path))
        except _TooLarge:
            for _, path in stored:
                path.unlink(missing_ok=True)
            return _too_large(settings)
        return [queue.submit(name, path, options).public() for name, path in stored]

    @app.get("/api/jobs")
    def jobs() -> list[dict]:
        return [job.public() for job in queue.jobs()]

    @app.get("/api/jobs/{job_id}")
    def job(job_id: str) -> dict:
        return _job(queue, job_id).public()

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(job_id: str) -> dict:
        job = _job(queue, job_id)
        queue.cancel(job_id)
        return job.public()

    @app.delete("/api/jobs/{job_id}")
    def remove(job_id: str) -> dict:
        if not queue.remove(job_id):
            raise HTTPException(404, "no such job")
        return {"removed": job_id}

    @app.get("/api/jobs/{job_id}/result")
    def result(job_id: str) -> FileResponse:
        job = _job(queue, job_id)
        if job.status != "done" or job.result is None:
            raise HTTPException(409, f"job is {job.status}")
        return FileResponse(job.result, filename=job.download_name())

    @app.get("/api/jobs/{job_id}/{which}")
    def preview(job_id: str, which: str) -> FileResponse:
        job = _job(queue, job_id)
        if which not in ("before", "after") or job.previews is None:
            raise HTTPException(404, "no such preview")
        return FileResponse(job.previews[which == "after"], media_type="image/jpeg")

    @app.get("/api/results.zip")
    def results_zip() -> Response:
        done = [j for j in queue.jobs() if j.status == "done" and j.result is not None]
        if not done:
            return JSONResponse({"detail": "no finished results yet"}, status_code=404)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for name, job in _unique_names(done):
                archive.write(job.result, name)
        buffer.seek(0)
        headers = {"Content-Disposition": 'attachment; filename="deblurred.zip"'}
        return StreamingResponse(buffer, media_type="application/zip", headers=headers)

    return app


class _TooLarge(Exception):
    pass


async def _save(upload: UploadFile, path: Path, budget: int) -> int:
    """Copy an upload to ``path``, at most ``budget`` bytes; returns the bytes written."""
    written = 0
    with open(path, "wb") as out:
        while chunk := await upload.read(CHUNK):
            written += len(chunk)
            if written > budget:
                out.close()
                path.unlink(missing_ok=True)
                raise _TooLarge
            out.write(chunk)
    return written


def _too_large(settings: ServeSettings) -> JSONResponse:
    limit = settings.max_upload_bytes / 2**20
    return JSONResponse(
        {"detail": f"upload larger than the server's limit of {limit:.0f} MiB (--max-upload)"},
        status_code=413,
    )


def _job(queue: JobQueue, job_id: str) -> Job:
    job = queue.get(job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return job


def _unique_names(jobs: list[Job]) -> list[tuple[str, Job]]:
    seen: dict[str, int] = {}
    named = []
    for job in jobs:
        name = job.download_name()
        count = seen.get(name, 0)
        seen[name] = count + 1
        if count:
            name = f"{Path(name).stem}-{count + 1}{Path(name).suffix}"
        named.append((name, job))
    return named
