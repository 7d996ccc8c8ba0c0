"""The web application of ``deblurgan serve``: a page and a small JSON API over a JobQueue.

Routes: ``/`` (the page), ``/favicon.ico`` and ``/static/*`` (its script, style and
icon, served from the package: it works offline); ``GET /api/info`` (methods,
models, precisions with plain-word labels, limits); ``POST /api/jobs`` (multipart
``files`` plus ``method``, ``model``, ``precision``, ``tile``); ``GET /api/jobs``;
``GET/DELETE /api/jobs/{id}``; ``POST /api/jobs/{id}/cancel``;
``GET /api/jobs/{id}/result`` (download), ``/before`` and ``/after`` (JPEG
previews); ``GET /api/results.zip``.

Jobs belong to the browser that made them: the page sets a random cookie, and the API
lists, shows, cancels, removes and zips only the jobs made with the same cookie (clients
without one, such as curl, share one list). :class:`~deblurgan.serve.guard.Guard` checks
the Host, the Origin and the upload size of every request first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import secrets
import zipfile
from pathlib import Path

from fastapi import FastAPI, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from deblurgan.serve.guard import Guard
from deblurgan.serve.jobs import Job, JobOptions, JobQueue, safe_display_name
from deblurgan.serve.words import (
    BUNDLED_MODEL,
    CUSTOM_MODEL,
    PRECISION_WORDS,
    READS,
    WRITES,
    mebibytes,
    megapixels,
    method_words,
)

STATIC = Path(__file__).with_name("static")
CHUNK = 1 << 20
COOKIE = "deblurgan_browser"
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclasses.dataclass(frozen=True)
class ServeSettings:
    """What the server offers; fixed at start-up.

    Attributes:
        models: Display name -> checkpoint path given at start-up (None: the bundled model).
        precisions: Precisions offered on the page; the first is the default.
        max_upload_bytes: Larger requests are refused with 413.
        max_pixels: Larger images fail with a message (the queue's limit).
        host: The address listened on (``--host``); with ``port``, the host names
            answered (see :func:`~deblurgan.serve.guard.host_allowed`).
        port: The port listened on.
        methods: Names of :data:`deblurgan.methods.METHODS` offered; the first is the
            default.
    """

    models: dict[str, str | None]
    precisions: tuple[str, ...] = ("fp32",)
    max_upload_bytes: int = 512 * 2**20
    max_pixels: int | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    methods: tuple[str, ...] = ("network",)


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
    app.add_middleware(
        Guard, host=settings.host, port=settings.port, max_body=settings.max_upload_bytes
    )

    @app.get("/", include_in_schema=False)
    def page(request: Request) -> FileResponse:
        response = FileResponse(STATIC / "index.html", media_type="text/html")
        if _owner(request) is None:
            response.set_cookie(
                COOKIE, secrets.token_urlsafe(24), httponly=True, samesite="lax", path="/"
            )
        return response

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @app.get("/api/info")
    def info() -> dict:
        return {
            "methods": [
                dict(zip(("value", "label", "summary"), (name, *method_words(name))))
                for name in settings.methods
            ],
            "models": [
                {
                    "value": name,
                    "label": BUNDLED_MODEL if path is None else CUSTOM_MODEL.format(name=name),
                }
                for name, path in settings.models.items()
            ],
            "precisions": [
                dict(zip(("value", "label", "detail"), (p, *PRECISION_WORDS.get(p, (p, p)))))
                for p in settings.precisions
            ],
            "max_upload_bytes": settings.max_upload_bytes,
            "max_pixels": settings.max_pixels,
            "limits": limits_text(settings),
        }

    @app.post("/api/jobs")
    async def submit(
        request: Request,
        files: list[UploadFile],
        method: str = Form(""),
        model: str = Form("bundled"),
        precision: str = Form(""),
        tile: int = Form(0),
    ) -> list[dict]:
        method = method or settings.methods[0]
        if method not in settings.methods:
            raise HTTPException(400, f"unknown method {method!r}; offered: {settings.methods}")
        if model not in settings.models:
            raise HTTPException(400, f"unknown model {model!r}; offered: {list(settings.models)}")
        precision = precision or settings.precisions[0]
        if precision not in settings.precisions:
            raise HTTPException(400, f"precision {precision!r} is not offered here")
        if tile and tile < 64:
            raise HTTPException(400, "tile must be 0 (automatic) or at least 64 pixels")
        options = JobOptions(method=method, model=model, precision=precision, tile=tile or None)
        stored = []  # the Guard has already refused bodies over the limit
        for upload in files:
            name = safe_display_name(upload.filename)
            path = queue.new_upload_path(name)
            await _save(upload, path)
            stored.append((name, path))
        owner = _owner(request)
        return [queue.submit(name, path, options, owner).public() for name, path in stored]

    @app.get("/api/jobs")
    def jobs(request: Request) -> list[dict]:
        return [job.public() for job in _own_jobs(queue, request)]

    @app.get("/api/jobs/{job_id}")
    def job(request: Request, job_id: str) -> dict:
        return _job(queue, request, job_id).public()

    @app.post("/api/jobs/{job_id}/cancel")
    def cancel(request: Request, job_id: str) -> dict:
        job = _job(queue, request, job_id)
        queue.cancel(job_id)
        return job.public()

    @app.delete("/api/jobs/{job_id}")
    def remove(request: Request, job_id: str) -> dict:
        _job(queue, request, job_id)
        if not queue.remove(job_id):
            raise HTTPException(404, "no such job")
        return {"removed": job_id}

    @app.get("/api/jobs/{job_id}/result")
    def result(request: Request, job_id: str) -> FileResponse:
        job = _job(queue, request, job_id)
        if job.status != "done" or job.result is None:
            raise HTTPException(409, f"job is {job.status}")
        return FileResponse(job.result, filename=job.download_name())

    @app.get("/api/jobs/{job_id}/{which}")
    def preview(request: Request, job_id: str, which: str) -> FileResponse:
        job = _job(queue, request, job_id)
        if which not in ("before", "after") or job.previews is None:
            raise HTTPException(404, "no such preview")
        return FileResponse(job.previews[which == "after"], media_type="image/jpeg")

    @app.get("/api/results.zip")
    def results_zip(request: Request) -> Response:
        done = [j for j in _own_jobs(queue, request) if j.status == "done" and j.result]
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


def limits_text(settings: ServeSettings) -> str:
    """What the page takes, in MiB and megapixels, and what it gives back."""
    most = f"Up to {mebibytes(settings.max_upload_bytes)} per file"
    if settings.max_pixels:
        most += f" and {megapixels(settings.max_pixels)} per photo"
    return f"{most}. {READS} {WRITES}"


async def _save(upload: UploadFile, path: Path) -> None:
    with open(path, "wb") as out:
        while chunk := await upload.read(CHUNK):
            out.write(chunk)


def _owner(request: Request) -> str | None:
    """The browser's cookie (None: no cookie, or not one this server makes)."""
    token = request.cookies.get(COOKIE)
    return token if token and TOKEN.fullmatch(token) else None


def _own_jobs(queue: JobQueue, request: Request) -> list[Job]:
    owner = _owner(request)
    return [job for job in queue.jobs() if job.owner == owner]


def _job(queue: JobQueue, request: Request, job_id: str) -> Job:
    """The job, if it exists and belongs to this browser (another's is 404 as well)."""
    job = queue.get(job_id)
    if job is None or job.owner != _owner(request):
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
