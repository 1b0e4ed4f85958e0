"""Informed consent: versioned documents, reading progress, comprehension check, signature.

A client reads each section and acknowledges it, answers the comprehension questions (a wrong
answer sends them back to its section), then signs with their typed full name. The signature row
is immutable and names the document version and its SHA-256. A new version needs a new signature;
a withdrawal is its own immutable row. Consent is "current" only when the newest signature is
for the clinic's newest version and was not withdrawn.
"""

from __future__ import annotations

import json

from sqlmodel import Session, select

from kapjourney.clock import now
from kapjourney.domain.consent_text import ConsentContent, digest, normalize, parse
from kapjourney.domain.enums import Role
from kapjourney.domain.errors import ValidationFailed
from kapjourney.domain.models import (
    ConsentDocument,
    ConsentProgress,
    ConsentSignature,
    ConsentWithdrawal,
    User,
)
from kapjourney.domain.schemas import (
    Actor,
    ConsentFlowView,
    ConsentQuestionView,
    ConsentSectionView,
    ConsentSignatureRow,
    ConsentSourceView,
    ConsentStatusView,
    QuizResult,
)
from kapjourney.services import audit
from kapjourney.services.clients import deny, fetch, load_client, own_or
from kapjourney.services.formatting import when
from kapjourney.services.validation import clean_text

NAME_MAX = 200


def current_document(session: Session, clinic_id: int) -> ConsentDocument | None:
    return session.exec(
        select(ConsentDocument)
        .where(ConsentDocument.clinic_id == clinic_id)
        .order_by(ConsentDocument.version.desc())
    ).first()


def consent_state(
    session: Session, client: User
) -> tuple[str, ConsentSignature | None, ConsentDocument | None]:
    """("current" | "none" | "outdated" | "withdrawn", newest signature, current document)."""
    document = current_document(session, client.clinic_id)
    signature = session.exec(
        select(ConsentSignature)
        .where(ConsentSignature.client_id == client.id)
        .order_by(ConsentSignature.id.desc())
    ).first()
    if signature is None:
        return "none", None, document
    withdrawn = session.exec(
        select(ConsentWithdrawal.id).where(ConsentWithdrawal.signature_id == signature.id)
    ).first()
    if withdrawn is not None:
        return "withdrawn", signature, document
    if document is None or signature.document_id != document.id:
        return "outdated", signature, document
    return "current", signature, document


def _progress(session: Session, client_id: int, document_id: int) -> ConsentProgress:
    row = session.exec(
        select(ConsentProgress).where(
            ConsentProgress.client_id == client_id, ConsentProgress.document_id == document_id
        )
    ).first()
    return row or ConsentProgress(client_id=client_id, document_id=document_id)


def _acknowledged(progress: ConsentProgress) -> set[int]:
    try:
        return {int(n) for n in json.loads(progress.acknowledged)}
    except (ValueError, TypeError):
        return set()


def _client(session: Session, actor: Actor, purpose: str) -> User:
    if not actor.is_client:
        raise deny(actor, purpose)
    return load_client(session, actor=actor, client_id=actor.user_id, purpose=purpose)


def _flow(session: Session, client: User, tz: str) -> ConsentFlowView:
    state, signature, document = consent_state(session, client)
    if document is None:
        return ConsentFlowView(available=False, state=state)
    content = parse(document.source_text)
    progress = _progress(session, client.id or 0, document.id or 0)
    acked = _acknowledged(progress)
    signed = signature is not None and state != "none"
    return ConsentFlowView(
        available=True,
        document_id=document.id or 0,
        version=document.version,
        title=content.title,
        sha256=document.sha256,
        sections=[
            ConsentSectionView(
                index=n, title=s.title, paragraphs=list(s.paragraphs), acknowledged=n in acked
            )
            for n, s in enumerate(content.sections)
        ],
        questions=_questions(content),
        all_acknowledged=len(acked & set(range(len(content.sections)))) == len(content.sections),
        quiz_passed=progress.quiz_passed_at is not None,
        state=state,
        signature_id=(signature.id or 0) if signed and signature else 0,
        signed_name=signature.signed_name if signed and signature else "",
        signed_at=when(signature.signed_at, tz) if signed and signature else "",
        signed_version=signature.document_version if signed and signature else 0,
    )


def _questions(content: ConsentContent) -> list[ConsentQuestionView]:
    return [
        ConsentQuestionView(
            index=i,
            section_index=n,
            section_title=content.sections[n].title,
            text=q.text,
            choices=list(q.choices),
        )
        for i, (n, q) in enumerate(content.questions)
    ]


def get_consent_flow(*, session: Session, actor: Actor) -> ConsentFlowView:
    client = _client(session, actor, "consent_viewed")
    return _flow(session, client, client.timezone)


def _document_for(session: Session, client: User, document_id: object) -> ConsentDocument:
    document = current_document(session, client.clinic_id)
    if document is None or document.id != document_id:
        raise ValidationFailed(
            {"form": "Your clinic has just updated this document. Please read it again."}
        )
    return document


def acknowledge_section(
    *, session: Session, actor: Actor, document_id: object, section: object
) -> ConsentFlowView:
    client = _client(session, actor, "consent_progress")
    document = _document_for(session, client, document_id)
    sections = len(parse(document.source_text).sections)
    if type(section) is not int or not 0 <= section < sections:
        raise ValidationFailed({"form": "That section is not part of this document."})
    progress = _progress(session, client.id or 0, document.id or 0)
    progress.acknowledged = json.dumps(sorted(_acknowledged(progress) | {section}))
    progress.updated_at = now()
    session.add(progress)
    session.flush()
    return _flow(session, client, client.timezone)


def check_answers(
    *, session: Session, actor: Actor, document_id: object, answers: object
) -> QuizResult:
    """Mark the comprehension check. Wrong or missing answers name the sections to re-read."""
    client = _client(session, actor, "consent_progress")
    document = _document_for(session, client, document_id)
    content = parse(document.source_text)
    progress = _progress(session, client.id or 0, document.id or 0)
    if len(_acknowledged(progress)) < len(content.sections):
        raise ValidationFailed({"form": "Read and acknowledge every section first."})
    given = answers if isinstance(answers, dict) else {}
    wrong = [
        i
        for i, (_, question) in enumerate(content.questions)
        if not _is_choice(given.get(str(i), given.get(i)), question.correct)
    ]
    sections = sorted({content.questions[i][0] for i in wrong})
    progress.quiz_attempts += 1
    progress.updated_at = now()
    if not wrong:
        progress.quiz_passed_at = now()
    session.add(progress)
    audit.record(
        session,
        action="consent_quiz",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        outcome="ok" if not wrong else "retry",
        ip=actor.ip,
        detail=f"version={document.version} wrong={len(wrong)}",
    )
    return QuizResult(passed=not wrong, wrong=wrong, sections=sections)


def _is_choice(value: object, correct: int) -> bool:
    return type(value) is int and value == correct


def sign_consent(
    *, session: Session, actor: Actor, document_id: object, full_name: object, user_agent: str = ""
) -> ConsentFlowView:
    client = _client(session, actor, "consent_signed")
    document = _document_for(session, client, document_id)
    progress = _progress(session, client.id or 0, document.id or 0)
    content = parse(document.source_text)
    if len(_acknowledged(progress)) < len(content.sections) or progress.quiz_passed_at is None:
        raise ValidationFailed({"form": "Read every section and answer the questions first."})
    name = clean_text(full_name, max_length=NAME_MAX)
    if "\n" in name or "\t" in name:
        raise ValidationFailed({"full_name": "Type your name on one line."})
    if len(name) > NAME_MAX:
        raise ValidationFailed({"full_name": f"Use at most {NAME_MAX} characters."})
    if sum(ch.isalpha() for ch in name) < 2:
        raise ValidationFailed({"full_name": "Type your full name to sign."})
    state, _, _ = consent_state(session, client)
    if state != "current":
        signature = ConsentSignature(
            client_id=client.id or 0,
            clinic_id=client.clinic_id,
            document_id=document.id or 0,
            document_version=document.version,
            document_sha256=document.sha256,
            signed_name=name,
            user_agent=clean_text(user_agent, max_length=300)[:300],
            ip=actor.ip[:64],
        )
        session.add(signature)
        session.flush()
        audit.record(
            session,
            action="consent_signed",
            actor_id=actor.user_id,
            subject_client_id=client.id,
            target=f"signature:{signature.id}",
            ip=actor.ip,
            detail=f"version={document.version}",
        )
        from kapjourney.services.plan import advance_course  # plan builds on this module

        advance_course(session, client)
    return _flow(session, client, client.timezone)


def withdraw_consent(
    *, session: Session, actor: Actor, reason: object = "", client_id: object = None
) -> ConsentStatusView:
    """Withdraw the newest signature: by the client, or recorded by their care team."""
    target = own_or(actor, client_id, "consent_withdrawn")
    client = load_client(session, actor=actor, client_id=target, purpose="consent_withdrawn")
    state, signature, _ = consent_state(session, client)
    if signature is None or state == "withdrawn":
        raise ValidationFailed({"form": "There is no signed consent to withdraw."})
    text = clean_text(reason, max_length=2000)
    if len(text) > 2000:
        raise ValidationFailed({"reason": "Use at most 2000 characters."})
    session.add(
        ConsentWithdrawal(
            signature_id=signature.id or 0,
            client_id=client.id or 0,
            recorded_by_id=actor.user_id,
            reason=text,
        )
    )
    session.flush()
    audit.record(
        session,
        action="consent_withdrawn",
        actor_id=actor.user_id,
        subject_client_id=client.id,
        target=f"signature:{signature.id}",
        ip=actor.ip,
        detail=f"version={signature.document_version}",
    )
    return _status(session, client, actor.timezone)


def _status(session: Session, client: User, tz: str) -> ConsentStatusView:
    state, _, document = consent_state(session, client)
    signatures = session.exec(
        select(ConsentSignature)
        .where(ConsentSignature.client_id == client.id)
        .order_by(ConsentSignature.id.desc())
    ).all()
    withdrawals = {
        w.signature_id: w
        for w in session.exec(
            select(ConsentWithdrawal).where(ConsentWithdrawal.client_id == client.id)
        ).all()
    }
    return ConsentStatusView(
        state=state,
        current_version=document.version if document else 0,
        signatures=[
            ConsentSignatureRow(
                signature_id=s.id or 0,
                version=s.document_version,
                sha256=s.document_sha256,
                signed_name=s.signed_name,
                signed_at=when(s.signed_at, tz),
                withdrawn_at=when(withdrawals[s.id].withdrawn_at, tz)
                if s.id in withdrawals
                else "",
            )
            for s in signatures
        ],
    )


def consent_status(*, session: Session, actor: Actor, client_id: object) -> ConsentStatusView:
    client = load_client(session, actor=actor, client_id=client_id, purpose="consent_viewed")
    return _status(session, client, actor.timezone)


def load_signature(
    session: Session, *, actor: Actor, signature_id: object
) -> tuple[ConsentSignature, ConsentDocument, User]:
    """A signature the actor may see (the client's own, or a client in their care)."""
    signature = fetch(session, ConsentSignature, signature_id)
    if signature is None:
        raise deny(actor, "consent_pdf")
    client = load_client(session, actor=actor, client_id=signature.client_id, purpose="consent_pdf")
    document = session.get(ConsentDocument, signature.document_id)
    assert document is not None  # foreign key
    return signature, document, client


# --- The clinic's document (admins) ---------------------------------------------------------


def get_document_source(*, session: Session, actor: Actor) -> ConsentSourceView:
    if not actor.is_staff:
        raise deny(actor, "consent_document")
    document = current_document(session, actor.clinic_id)
    if document is None:
        return ConsentSourceView(version=0, text="", published="", sha256="")
    return ConsentSourceView(
        version=document.version,
        text=document.source_text,
        published=when(document.published_at, actor.timezone),
        sha256=document.sha256,
    )


def publish_document(*, session: Session, actor: Actor, text: object) -> ConsentSourceView:
    """Publish a new version (admins). Every client must then consent again."""
    if actor.role != Role.ADMIN:
        raise deny(actor, "consent_published")
    source = text if isinstance(text, str) else ""
    content = parse(source)
    if content.problems:
        raise ValidationFailed({"text": " ".join(content.problems[:4])})
    current = current_document(session, actor.clinic_id)
    if current is not None and current.sha256 == digest(source):
        raise ValidationFailed({"text": "This is the version already published."})
    document = ConsentDocument(
        clinic_id=actor.clinic_id,
        version=(current.version if current else 0) + 1,
        title=content.title[:200],
        source_text=normalize(source),
        sha256=digest(source),
        published_by_id=actor.user_id,
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        action="consent_published",
        actor_id=actor.user_id,
        target=f"consent:{document.id}",
        ip=actor.ip,
        detail=f"version={document.version}",
    )
    return get_document_source(session=session, actor=actor)
