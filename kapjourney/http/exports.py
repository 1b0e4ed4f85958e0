"""Export downloads: a client's CSV, FHIR Bundle and course summary PDF, and the clinic CSV.

The actor comes from the HttpOnly session cookie. Each export is authorized and audited in its
own unit of work before a byte is sent; a request for a client out of reach is answered 404
(and the denial audited), a signed-out one 401. CSVs stream from a generator, one client read
at a time. Nothing is cached: health data never lands in a shared or browser cache.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from kapjourney.auth import sessions
from kapjourney.domain.errors import NotFound
from kapjourney.domain.schemas import Actor
from kapjourney.routes import (
    EXPORT_CLIENT_CSV,
    EXPORT_CLIENT_FHIR,
    EXPORT_CLIENT_PDF,
    EXPORT_CLINIC_CSV,
)
from kapjourney.services import exports
from kapjourney.services.export_fhir import fhir_bundle
from kapjourney.services.export_pdf import course_summary_pdf
from kapjourney.services.uow import unit_of_work
from kapjourney.services.validation import record_id
from kapjourney.settings import Settings

CSV_TYPE = "text/csv; charset=utf-8"
NOT_FOUND = {"error": "not found"}
SIGN_IN = {"error": "sign in first"}


def _actor(request: Request, settings: Settings) -> Actor | None:
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""), settings=settings)
    if token is None:
        return None
    ip = request.client.host if request.client else ""
    with unit_of_work() as session:
        return sessions.resolve_session(session, token=token, ip=ip, settings=settings)


def _headers(filename: str) -> dict[str, str]:
    return {
        "content-disposition": f'attachment; filename="{filename}"',
        "cache-control": "no-store",
    }


async def _run(request: Request, settings: Settings, work: Callable[..., Any]) -> Any:
    """``work(session, actor)`` in a unit of work on a thread; a Response for 401 and 404."""
    actor = await asyncio.to_thread(_actor, request, settings)
    if actor is None:
        return JSONResponse(SIGN_IN, status_code=401)

    def call() -> Any:
        with unit_of_work() as session:
            return work(session, actor)

    try:
        return await asyncio.to_thread(call)
    except NotFound:
        return JSONResponse(NOT_FOUND, status_code=404)


def _csv(subjects: list[exports.ExportSubject], *, clinic: bool, filename: str) -> Response:
    return StreamingResponse(
        exports.csv_lines(subjects, clinic=clinic), media_type=CSV_TYPE, headers=_headers(filename)
    )


def register(api: FastAPI, settings: Settings) -> None:
    @api.get(EXPORT_CLIENT_CSV)
    async def client_csv(client_id: str, request: Request) -> Response:
        result = await _run(
            request,
            settings,
            lambda s, actor: exports.authorize_client_export(
                session=s, actor=actor, client_id=record_id(client_id), fmt="csv"
            ),
        )
        if isinstance(result, Response):
            return result
        return _csv([result], clinic=False, filename=f"client-{result.client_id}-records.csv")

    @api.get(EXPORT_CLINIC_CSV)
    async def clinic_csv(request: Request) -> Response:
        result = await _run(
            request,
            settings,
            lambda s, actor: exports.authorize_clinic_export(session=s, actor=actor),
        )
        if isinstance(result, Response):
            return result
        return _csv(result, clinic=True, filename="clinic-records.csv")

    @api.get(EXPORT_CLIENT_FHIR)
    async def client_fhir(client_id: str, request: Request) -> Response:
        result = await _run(
            request,
            settings,
            lambda s, actor: fhir_bundle(session=s, actor=actor, client_id=record_id(client_id)),
        )
        if isinstance(result, Response):
            return result
        number = record_id(client_id)
        return Response(
            json.dumps(result, ensure_ascii=False),
            media_type="application/fhir+json",
            headers=_headers(f"client-{number}-fhir.json"),
        )

    @api.get(EXPORT_CLIENT_PDF)
    async def client_pdf(client_id: str, request: Request) -> Response:
        result = await _run(
            request,
            settings,
            lambda s, actor: course_summary_pdf(
                session=s, actor=actor, client_id=record_id(client_id)
            ),
        )
        if isinstance(result, Response):
            return result
        filename, pdf = result
        return Response(pdf, media_type="application/pdf", headers=_headers(filename))
