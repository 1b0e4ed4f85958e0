"""Where the client stands in the consent flow, and the section they are reading."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from kapjourney.domain.enums import Role
from kapjourney.domain.errors import NotFound, ValidationFailed
from kapjourney.domain.schemas import ConsentFlowView
from kapjourney.services import consent
from kapjourney.ui.guard import authorized, call_service
from kapjourney.ui.session_state import remember


@dataclass
class SectionText:
    title: str = ""
    paragraphs: list[str] = field(default_factory=list)


class ConsentState(rx.State):
    loaded: bool = False
    step: str = ""  # read | quiz | sign | signed | unavailable
    doc_state: str = ""  # current | none | outdated | withdrawn
    document_id: int = 0
    version: int = 0
    title: str = ""
    sha_short: str = ""
    section: int = 0
    section_count: int = 0
    section_title: str = ""
    paragraphs: list[str] = []
    form_error: str = ""
    _sections: list[SectionText] = []

    def _show_section(self, index: int) -> None:
        index = max(0, min(index, len(self._sections) - 1))
        self.section = index
        self.section_title = self._sections[index].title if self._sections else ""
        self.paragraphs = list(self._sections[index].paragraphs) if self._sections else []

    async def _apply(self, flow: ConsentFlowView) -> None:
        """Take a fresh view of the flow: which step, which section, and what each step shows."""
        from kapjourney.ui.pages.consent.quiz import ConsentQuizState
        from kapjourney.ui.pages.consent.signing import ConsentSignState

        self.doc_state = flow.state
        self.document_id = flow.document_id
        self.version = flow.version
        self.title = flow.title
        self.sha_short = flow.sha256[:12]
        self._sections = [SectionText(s.title, list(s.paragraphs)) for s in flow.sections]
        self.section_count = len(flow.sections)
        unread = [s.index for s in flow.sections if not s.acknowledged]
        if not flow.available:
            self.step = "unavailable"
        elif flow.state == "current":
            self.step = "signed"
        elif unread:
            self.step = "read"
            self._show_section(unread[0])
        elif not flow.quiz_passed:
            self.step = "quiz"
        else:
            self.step = "sign"
        (await self.get_state(ConsentQuizState))._take(flow)
        (await self.get_state(ConsentSignState))._take(flow)
        self.loaded = True

    @rx.event
    @authorized(Role.CLIENT)
    async def load(self):
        await remember(self)
        self.form_error = ""
        await self._apply(await call_service(consent.get_consent_flow))

    @rx.event
    @authorized(Role.CLIENT)
    async def acknowledge(self):
        """'I understand — next': the section on screen (held here, not sent by the browser)."""
        self.form_error = ""
        try:
            flow = await call_service(
                consent.acknowledge_section, document_id=self.document_id, section=self.section
            )
        except ValidationFailed as problem:
            self.form_error = next(iter(problem.fields.values()), "")
            return ConsentState.load
        except NotFound:
            return rx.toast.error("Not found.")
        await self._apply(flow)
        return rx.scroll_to("consent")

    @rx.event
    @authorized(Role.CLIENT)
    async def previous(self):
        """Go back a section to read it again (acknowledged sections stay acknowledged)."""
        if self.step == "read" and self.section > 0:
            self._show_section(self.section - 1)
        return rx.scroll_to("consent")
