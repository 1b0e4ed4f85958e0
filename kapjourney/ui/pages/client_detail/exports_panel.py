"""Downloads of the client's records for the care team: CSV, FHIR R4 Bundle, course summary PDF.

Plain anchors to the export routes (``kapjourney/http/exports.py``), which authorize and audit
each download themselves; no event handler is involved. Plain ``<a download>`` elements, as for
the consent PDF: a router link would try to route the API path inside the app.
"""

from __future__ import annotations

import reflex as rx

from kapjourney.routes import export_urls
from kapjourney.ui.pages.client_detail.common import panel

LINK_STYLE = {
    "display": "inline-flex",
    "align_items": "center",
    "gap": "4px",
    "color": "var(--accent-11)",
    "font_size": "14px",
}


class ExportsPanelState(rx.State):
    csv_url: str = ""
    fhir_url: str = ""
    pdf_url: str = ""

    async def _refresh(self, client_id: int) -> None:
        urls = export_urls(client_id)
        self.csv_url, self.fhir_url, self.pdf_url = urls["csv"], urls["fhir"], urls["pdf"]


def _download(label: str, href: rx.Var, icon: str, link_id: str) -> rx.Component:
    return rx.el.a(
        rx.icon(icon, size=16, aria_hidden="true"),
        label,
        href=href,
        download="",
        id=link_id,
        class_name="kj-export-link",
        style=LINK_STYLE,
    )


def exports_panel() -> rx.Component:
    return panel(
        "Exports",
        rx.hstack(
            _download("Records (CSV)", ExportsPanelState.csv_url, "sheet", "export-csv"),
            _download("FHIR R4 Bundle", ExportsPanelState.fhir_url, "file-json", "export-fhir"),
            _download("Course summary (PDF)", ExportsPanelState.pdf_url, "file-down", "export-pdf"),
            spacing="5",
            wrap="wrap",
            align="center",
        ),
        rx.text("Every download is recorded in the audit log.", size="1", color_scheme="gray"),
        panel_id="exports-panel",
    )
