"""GET /offline.html: the page the service worker shows when a page cannot load.

Small and self-contained (inline CSS, one same-origin script, nothing external), so it works from
the service worker's cache with no network: a crisis card with one-tap calls to the signed-in
client's clinic lines (the clinic model's defaults when signed out), the daily check-in, built
from the same scale definitions as the online one, and for a client each after-session report
that is due or falls due within a week (kapjourney/http/offline_report.py). The script
(assets/js/offline.js) saves an entry through the service worker's queue, which sends it to
POST /api/sync once online.

The service worker re-fetches this page after each app start, so the cached copy carries the
current person's clinic numbers, open follow-ups and owner tag (``push.owner_tag``: an entry
queued under one account is never applied to another); it holds no answers.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kapjourney.auth import sessions
from kapjourney.domain.checkin import NOTE_MAX, SCALES, Scale, missing_message
from kapjourney.domain.models import Clinic
from kapjourney.http.offline_report import CSS as REPORT_CSS
from kapjourney.http.offline_report import OfflineReport, offline_report, render_reports
from kapjourney.http.push import owner_tag
from kapjourney.services import safety, symptoms
from kapjourney.services.uow import unit_of_work
from kapjourney.settings import Settings, get_settings

router = APIRouter()

OFFLINE_PATH = "/offline.html"
SAVED = "Saved on this phone. It will send when you are back online."
# Where a long answer may break in a narrow column (as on the online check-in).
SOFT_BREAKS = {"Overwhelmed": "Over\u00adwhelmed"}


@dataclass(frozen=True)
class CrisisLines:
    line_name: str
    line_number: str
    emergency_number: str
    clinic_phone: str = ""


@dataclass(frozen=True)
class OfflineContext:
    crisis: CrisisLines
    can_check_in: bool = True  # clients, and anyone signed out (the entry sends after sign-in)
    owner: str = ""  # the signed-in client's owner tag; "" when signed out or staff
    reports: tuple[OfflineReport, ...] = ()


def _default(field: str) -> str:
    return str(Clinic.model_fields[field].default)


def default_lines() -> CrisisLines:
    return CrisisLines(
        line_name=_default("crisis_line_name"),
        line_number=_default("crisis_line_number"),
        emergency_number=_default("emergency_number"),
    )


def _context_for(token: str | None, ip: str, settings: Settings) -> OfflineContext:
    if token is None:
        return OfflineContext(crisis=default_lines())
    with unit_of_work() as session:
        actor = sessions.resolve_session(session, token=token, ip=ip)
        clinic = session.get(Clinic, actor.clinic_id) if actor else None
        if actor is None or clinic is None:
            return OfflineContext(crisis=default_lines())
        lines = CrisisLines(
            line_name=clinic.crisis_line_name or _default("crisis_line_name"),
            line_number=clinic.crisis_line_number or _default("crisis_line_number"),
            emergency_number=clinic.emergency_number or _default("emergency_number"),
            clinic_phone=clinic.crisis_phone,
        )
        if not actor.is_client:
            return OfflineContext(crisis=lines, can_check_in=False)
        followups = symptoms.open_followups(session=session, actor=actor)
        rules = safety.rules_for(session, clinic.id or 0) if followups else ()
        return OfflineContext(
            crisis=lines,
            owner=owner_tag(actor.user_id, settings),
            reports=tuple(offline_report(f, rules) for f in followups),
        )


@router.get(OFFLINE_PATH, include_in_schema=False)
async def offline_page(request: Request) -> HTMLResponse:
    settings = get_settings()
    token = sessions.token_from_cookie_header(request.headers.get("cookie", ""), settings=settings)
    ip = request.client.host if request.client else ""
    context = await asyncio.to_thread(_context_for, token, ip, settings)
    return HTMLResponse(render_offline_page(context), headers={"Cache-Control": "no-cache"})


# --- Rendering --------------------------------------------------------------------------------


def tel_href(number: str) -> str:
    """``tel:`` plus the dialable characters of ``number`` ("" when none are left). A trunk
    "(0)" after a country code is not dialled: "+44 (0)20 ..." is "+4420..."."""
    dialable = re.sub(r"[^0-9+*#]", "", re.sub(r"\(0\)", "", number))
    return f"tel:{dialable}" if dialable else ""


def _call(text: str, number: str, css: str) -> str:
    href = tel_href(number)
    if not href:
        return ""
    return (
        f'<a class="call {css}" href="{escape(href)}">{escape(text)} '
        f'<span class="number">{escape(number)}</span></a>'
    )


def _calls(lines: CrisisLines) -> str:
    return "".join(
        [
            _call(f"Call {lines.line_name}", lines.line_number, "line"),
            _call("Call your clinic", lines.clinic_phone, "clinic") if lines.clinic_phone else "",
            _call("Emergency", lines.emergency_number, "emergency"),
        ]
    )


def _lines_text(lines: CrisisLines) -> str:
    """The lines in words, like: 988 Lifeline on 988, or 911 in an emergency (escaped where
    used)."""
    return f"{lines.line_name} on {lines.line_number}, or {lines.emergency_number} in an emergency"


def _crisis_card(lines: CrisisLines) -> str:
    return (
        '<section class="crisis" aria-labelledby="crisis-title">'
        '<h2 id="crisis-title">Need help now?</h2>'
        "<p>Phone calls work without the app. If you feel unsafe, call now: "
        "someone will answer, day and night.</p>"
        f"{_calls(lines)}</section>"
    )


def _scale(scale: Scale) -> str:
    key = escape(scale.key)
    need = "" if scale.required else ' <span class="optional">(optional)</span>'
    choices = "".join(
        f'<label class="choice"><input type="radio" name="{key}" value="{value}">'
        f"<span>{escape(SOFT_BREAKS.get(word, word))}</span></label>"
        for value, word in enumerate(scale.anchors, start=1)
    )
    missing = escape(missing_message(scale.key)) if scale.required else ""
    return (
        f'<fieldset class="scale" id="scale-{key}" data-required="{str(scale.required).lower()}"'
        f' data-missing="{missing}" aria-describedby="{key}-error">'
        f"<legend>{escape(scale.question)}{need}</legend>"
        f'<div class="choices">{choices}</div>'
        f'<p class="error" id="{key}-error"></p></fieldset>'
    )


def _checkin_form() -> str:
    scales = "".join(_scale(s) for s in SCALES)
    return (
        # POST, so that even without the script no answer could end up in an address.
        '<form id="offline-checkin" method="post" novalidate aria-labelledby="checkin-title">'
        '<h2 id="checkin-title">Today\'s check-in</h2>'
        "<p>Answer here and it will be kept on this phone until you are back online.</p>"
        f"{scales}"
        '<div class="note"><label for="offline-note">A note for yourself or your care team '
        '(optional)</label><textarea id="offline-note" name="note" rows="3" '
        f'data-max="{NOTE_MAX}" aria-describedby="offline-note-count offline-note-error">'
        "</textarea>"
        f'<p class="count" id="offline-note-count">0 / {NOTE_MAX}</p>'
        '<p class="error" id="offline-note-error"></p></div>'
        '<p class="error" id="offline-form-error" role="alert"></p>'
        '<button type="submit" class="primary">Save check-in</button></form>'
    )


def render_offline_page(context: OfflineContext) -> str:
    form = _checkin_form() if context.can_check_in else ""
    reports = render_reports(
        list(context.reports), _calls(context.crisis), _lines_text(context.crisis)
    )
    owner = f' data-owner="{escape(context.owner)}"' if context.owner else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">'
        '<meta name="theme-color" content="#3e63dd">'
        '<link rel="icon" type="image/png" href="/icons/favicon.png">'
        "<title>You are offline · KAP Journey</title>"
        f"<style>{_CSS}{REPORT_CSS}</style></head><body><main{owner}>"
        '<h1 id="offline-title">You are offline</h1><p class="lead" id="offline-lead">This page '
        "will work again when your phone has a connection.</p>"
        '<p><button type="button" id="offline-retry" class="secondary">Try again</button></p>'
        f"{_crisis_card(context.crisis)}{form}"
        f'<p id="offline-status" class="status" role="status" aria-live="polite" '
        f'data-saved="{escape(SAVED)}"></p>{reports}'
        '</main><script src="/js/offline.js" defer></script></body></html>'
    )


_CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f9f9f8;color:#21201c;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:34rem;margin:0 auto;
padding:20px 16px calc(32px + env(safe-area-inset-bottom,0px))}
h1{font-size:1.6rem;line-height:1.2;margin:8px 0}
h2{font-size:1.2rem;margin:0 0 8px}
.lead{margin:0 0 12px;color:#3b3a37}
button{font:inherit;min-height:48px;border-radius:12px;padding:10px 18px;cursor:pointer}
.primary{width:100%;border:0;background:#3e63dd;color:#fff;font-weight:600}
.secondary{border:1px solid #8d8c85;background:#fff;color:#21201c}
button:focus-visible,a:focus-visible,input:focus-visible+span,textarea:focus-visible{
outline:3px solid #1f2d5c;outline-offset:2px}
.crisis{margin:16px 0;padding:16px;border:2px solid #dc3e42;border-radius:14px;background:#fff7f7}
.crisis p{margin:0 0 12px}
.call{display:flex;justify-content:space-between;align-items:center;gap:8px;min-height:52px;
margin-top:8px;padding:12px 16px;border-radius:12px;background:#b3242a;color:#fff;
font-weight:600;text-decoration:none}
.call.clinic{background:#fff;color:#8c1c20;border:2px solid #b3242a}
.number{font-variant-numeric:tabular-nums;white-space:nowrap}
form{margin:20px 0;padding:16px 12px;border-radius:14px;background:#fff;border:1px solid #dad9d6}
fieldset{border:0;margin:0 0 16px;padding:0;min-width:0}
legend{font-weight:600;margin-bottom:8px;padding:0}
.optional{font-weight:400;color:#63635e}
.choices{display:grid;grid-template-columns:repeat(5,1fr);gap:4px}
.choice{position:relative;display:flex;min-height:60px}
.choice input{position:absolute;opacity:0;width:100%;height:100%;margin:0;cursor:pointer}
.choice span{flex:1;display:flex;align-items:center;justify-content:center;text-align:center;
padding:6px 2px;border:1px solid #bcbbb5;border-radius:10px;background:#fff;font-size:.75rem;
line-height:1.2;font-weight:500;overflow-wrap:anywhere;hyphens:auto}
.choice input:checked+span{background:#3e63dd;border-color:#3e63dd;color:#fff}
.note label{display:block;font-weight:600;margin-bottom:6px}
textarea{width:100%;font:inherit;padding:10px;border:1px solid #8d8c85;border-radius:10px}
.count{margin:4px 0 0;font-size:.875rem;color:#63635e;text-align:right}
.count.over{color:#b3242a;font-weight:600}
.error{margin:4px 0 0;color:#b3242a;font-weight:500}
.error:empty{display:none}
[aria-invalid=true] .choice span{border-color:#b3242a}
.status{margin:16px 0;font-weight:600;font-size:1.05rem}
.status:empty{display:none}
.status.saved{padding:12px 16px;border-radius:12px;background:#eef1fd;color:#1f2d5c}
.status.sent{padding:12px 16px;border-radius:12px;background:#e9f6e9;color:#1d4d22}
"""
