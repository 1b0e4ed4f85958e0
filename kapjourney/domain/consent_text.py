"""Consent documents as plain text a clinic can edit.

Format (the whole document is one text; its SHA-256 is what a client signs)::

    # Title of the document
    ## A section title
    Paragraphs of plain text. Blank lines separate paragraphs.
    ? A comprehension question about this section
    - a wrong answer
    * the right answer

Questions belong to the section they follow, so a wrong answer can show that section again.
Nothing in the text is ever rendered as HTML or markdown: it is shown as text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# About four times the default document; the editor sends the text over the event socket,
# whose messages stop at 64 KB (S11), so even 3-byte characters fit.
MAX_DOCUMENT_CHARS = 20_000


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[str, ...]
    correct: int


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...]
    questions: tuple[Question, ...] = ()


@dataclass(frozen=True)
class ConsentContent:
    title: str
    sections: tuple[Section, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def questions(self) -> list[tuple[int, Question]]:
        """(section index, question) in reading order."""
        return [(n, q) for n, s in enumerate(self.sections) for q in s.questions]


def normalize(text: str) -> str:
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip() + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


def parse(text: str) -> ConsentContent:
    problems: list[str] = []
    if len(text) > MAX_DOCUMENT_CHARS:
        return ConsentContent(
            "", (), (f"Keep the document under {MAX_DOCUMENT_CHARS} characters.",)
        )
    title = ""
    sections: list[dict] = []
    for number, raw in enumerate(normalize(text).split("\n"), 1):
        line = raw.strip()
        if line.startswith("## "):
            sections.append({"title": line[3:].strip(), "paras": [[]], "questions": []})
        elif line.startswith("# "):
            if title or sections:
                problems.append(f"Line {number}: only the first line may be a '# ' title.")
            title = line[2:].strip()
        elif not sections:
            if line:
                problems.append(f"Line {number}: text before the first '## ' section.")
        elif line.startswith("? "):
            sections[-1]["questions"].append({"text": line[2:].strip(), "choices": [], "ok": []})
        elif line[:2] in ("- ", "* ") and sections[-1]["questions"]:
            question = sections[-1]["questions"][-1]
            if line[0] == "*":
                question["ok"].append(len(question["choices"]))
            question["choices"].append(line[2:].strip())
        elif not line:
            sections[-1]["paras"].append([])
        elif sections[-1]["questions"]:
            problems.append(f"Line {number}: section text must come before its questions.")
        else:
            sections[-1]["paras"][-1].append(line)
    built = []
    for s in sections:
        paragraphs = tuple(" ".join(p) for p in s["paras"] if p)
        if not s["title"] or not paragraphs:
            problems.append(f'Section "{s["title"][:40] or "(untitled)"}" needs a title and text.')
        questions = []
        for q in s["questions"]:
            if len(q["choices"]) < 2 or len(q["ok"]) != 1:
                problems.append(
                    f'Question "{q["text"][:40]}" needs two or more answers, exactly one '
                    "marked with '*'."
                )
                continue
            questions.append(Question(q["text"], tuple(q["choices"]), q["ok"][0]))
        built.append(Section(s["title"], paragraphs, tuple(questions)))
    if not title:
        problems.insert(0, "Start with a title line beginning '# '.")
    if not built:
        problems.append("Add at least one section beginning '## '.")
    elif not any(s.questions for s in built):
        problems.append("Add at least one comprehension question ('? ' then answers).")
    return ConsentContent(title, tuple(built), tuple(problems))
