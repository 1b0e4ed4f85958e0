"""Consent documents as plain text: the parser, its problems, the digest, the default text."""

from __future__ import annotations

import re

import pytest

from kapjourney.domain.consent_default import DEFAULT_CONSENT_TEXT
from kapjourney.domain.consent_text import MAX_DOCUMENT_CHARS, digest, normalize, parse

HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)"> **bold** [link](javascript:x)'

MINIMAL = """\
# Consent
## About
Some text.
? A question
- wrong
* right
"""


def _problems(text: str) -> tuple[str, ...]:
    return parse(text).problems


def _section_text(section) -> str:
    parts = [section.title, *section.paragraphs]
    for q in section.questions:
        parts += [q.text, *q.choices]
    return "\n".join(parts).lower()


# --- The default document -------------------------------------------------------------------


def test_it_parses_the_default_document_without_problems():
    content = parse(DEFAULT_CONSENT_TEXT)
    assert content.problems == ()
    assert content.title == "Informed consent for ketamine-assisted psychotherapy"
    assert len(content.sections) >= 8
    assert all(s.title and s.paragraphs for s in content.sections)


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("what KAP is", ["ketamine-assisted psychotherapy", "off-label"]),
        ("routes", ["lozenge", "muscle", "intravenous", "nasal spray"]),
        ("effects", ["dissociation", "perception"]),
        ("side effects", ["nausea", "dizziness", "blood pressure"]),
        ("long-term concerns", ["bladder", "dependence"]),
        ("before and after", ["eating and drinking", "alcohol", "drive", "ride home"]),
        ("exclusions", ["pregnancy", "breastfeeding", "psychosis", "mania"]),
        ("rights", ["withdraw", "at any time"]),
    ],
)
def test_it_covers_each_required_topic_in_one_section(topic, words):
    sections = parse(DEFAULT_CONSENT_TEXT).sections
    matching = [s.title for s in sections if all(w in _section_text(s) for w in words)]
    assert matching, f"no section covers {topic}: {words}"


def test_it_asks_at_least_four_questions_each_with_exactly_one_right_answer():
    content = parse(DEFAULT_CONSENT_TEXT)
    questions = content.questions
    assert len(questions) >= 4
    # No question was dropped by the parser: every '? ' line became a question.
    raw_questions = [ln for ln in DEFAULT_CONSENT_TEXT.splitlines() if ln.startswith("? ")]
    assert len(questions) == len(raw_questions)
    for _, q in questions:
        assert len(q.choices) >= 2
        assert 0 <= q.correct < len(q.choices)
    # Exactly one '*' answer under each question in the raw text.
    blocks = re.split(r"^\? .*$", DEFAULT_CONSENT_TEXT, flags=re.MULTILINE)[1:]
    for block in blocks:
        answers = re.findall(r"^([*-]) ", block.split("\n## ")[0], flags=re.MULTILINE)
        assert answers.count("*") == 1, block


def test_it_points_each_question_at_the_section_it_follows():
    content = parse(DEFAULT_CONSENT_TEXT)
    by_section = {content.sections[n].title: q.choices[q.correct] for n, q in content.questions}
    assert by_section["Long-term concerns"] == "Tell my care team straight away"
    assert by_section["Your rights"] == "Yes, at any time, even right before a dose"


# --- Parsing --------------------------------------------------------------------------------


def test_it_parses_title_sections_paragraphs_and_questions():
    text = (
        "# Title\n\n## One\nFirst line\nsame paragraph.\n\nSecond paragraph.\n"
        "? Which?\n- a\n* b\n- c\n## Two\nMore text.\n"
    )
    content = parse(text)
    assert content.problems == ()
    assert content.title == "Title"
    one, two = content.sections
    assert one.title == "One"
    assert one.paragraphs == ("First line same paragraph.", "Second paragraph.")
    assert [(q.text, q.choices, q.correct) for q in one.questions] == [
        ("Which?", ("a", "b", "c"), 1)
    ]
    assert (two.title, two.paragraphs, two.questions) == ("Two", ("More text.",), ())
    assert content.questions == [(0, one.questions[0])]


def test_it_keeps_hostile_content_verbatim_everywhere():
    text = f"# {HOSTILE}\n## {HOSTILE}\n{HOSTILE}\n? {HOSTILE}\n- {HOSTILE}\n* right\n"
    content = parse(text)
    assert content.problems == ()
    assert content.title == HOSTILE
    section = content.sections[0]
    assert section.title == HOSTILE
    assert section.paragraphs == (HOSTILE,)
    assert section.questions[0].text == HOSTILE
    assert section.questions[0].choices == (HOSTILE, "right")


def test_it_keeps_a_dash_list_before_any_question_as_paragraph_text():
    text = "# T\n## S\n- not an answer\n* nor this\n? Q\n- a\n* b\n"
    content = parse(text)
    assert content.problems == ()
    assert content.sections[0].paragraphs == ("- not an answer * nor this",)


# --- Problems -------------------------------------------------------------------------------


def test_it_reports_a_missing_title_first():
    problems = _problems(MINIMAL.replace("# Consent\n", ""))
    assert problems == ("Start with a title line beginning '# '.",)


def test_it_reports_a_document_without_sections():
    problems = _problems("# Consent\n")
    assert problems == ("Add at least one section beginning '## '.",)
    assert parse("# Consent\n").sections == ()


def test_it_reports_an_empty_document():
    assert _problems("") == (
        "Start with a title line beginning '# '.",
        "Add at least one section beginning '## '.",
    )


def test_it_reports_a_document_without_any_question():
    assert _problems("# T\n## S\nText.\n") == (
        "Add at least one comprehension question ('? ' then answers).",
    )


def test_it_reports_a_question_with_only_one_answer():
    text = MINIMAL + "? Lonely question\n* only answer\n"
    problems = _problems(text)
    assert len(problems) == 1
    assert '"Lonely question"' in problems[0]
    assert "exactly one marked with '*'" in problems[0]
    assert [q.text for _, q in parse(text).questions] == ["A question"]


def test_it_reports_a_question_with_two_right_answers():
    text = MINIMAL + "? Greedy question\n* one\n* two\n- three\n"
    problems = _problems(text)
    assert len(problems) == 1
    assert '"Greedy question"' in problems[0]


def test_it_reports_a_question_with_no_right_answer():
    problems = _problems(MINIMAL + "? Unanswerable\n- one\n- two\n")
    assert len(problems) == 1
    assert '"Unanswerable"' in problems[0]


def test_it_reports_text_before_the_first_section():
    problems = _problems(MINIMAL.replace("## About", "Stray preface.\n## About"))
    assert problems == ("Line 2: text before the first '## ' section.",)


def test_it_reports_section_text_after_a_question():
    problems = _problems(MINIMAL + "An afterthought.\n")
    assert problems == ("Line 7: section text must come before its questions.",)


def test_it_reports_a_second_title():
    problems = _problems(MINIMAL + "# Another title\n")
    assert problems == ("Line 7: only the first line may be a '# ' title.",)


def test_it_reports_a_section_with_no_text():
    problems = _problems(MINIMAL + "## Empty\n")
    assert problems == ('Section "Empty" needs a title and text.',)


def test_it_refuses_a_document_over_the_size_limit():
    oversized = MINIMAL + "x" * (MAX_DOCUMENT_CHARS - len(MINIMAL) + 1)
    assert len(oversized) == MAX_DOCUMENT_CHARS + 1
    content = parse(oversized)
    assert content.problems == (f"Keep the document under {MAX_DOCUMENT_CHARS} characters.",)
    assert (content.title, content.sections) == ("", ())


def test_it_accepts_a_document_exactly_at_the_size_limit():
    filler = "y" * (MAX_DOCUMENT_CHARS - len(MINIMAL) - 1)
    exact = MINIMAL.replace("Some text.", "Some text. " + filler)
    assert len(exact) == MAX_DOCUMENT_CHARS
    assert parse(exact).problems == ()


# --- Normalising and the digest that is signed ----------------------------------------------


def test_it_normalises_line_endings_trailing_space_and_outer_blank_lines():
    messy = "\n\r\n# Title  \r\n## S\t\r\nText. \rMore\n\n\n"
    assert normalize(messy) == "# Title\n## S\nText.\nMore\n"


def test_it_normalises_idempotently():
    once = normalize(DEFAULT_CONSENT_TEXT.replace("\n", "  \r\n"))
    assert normalize(once) == once
    assert once == DEFAULT_CONSENT_TEXT


def test_it_gives_a_sha256_hex_digest():
    value = digest(DEFAULT_CONSENT_TEXT)
    assert re.fullmatch(r"[0-9a-f]{64}", value)


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t.replace("\n", "\r\n"),
        lambda t: t.replace("\n", "\r"),
        lambda t: t.replace("\n", "   \n"),
        lambda t: t.replace("\n", "\t\n"),
        lambda t: t.rstrip("\n"),
        lambda t: t + "\n\n\n",
        lambda t: "\n\n" + t,
    ],
    ids=["crlf", "cr", "trailing_spaces", "trailing_tabs", "no_final_newline", "extra_end", "lead"],
)
def test_it_keeps_the_digest_stable_across_whitespace_noise(variant):
    assert digest(variant(DEFAULT_CONSENT_TEXT)) == digest(DEFAULT_CONSENT_TEXT)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("often six", "often eight"),  # one word
        ("Schedule III", "Schedule II"),  # one character
        ("* The next day", "- The next day"),  # the right answer
        ("Stop eating and drinking", "Stop  eating and drinking"),  # inner whitespace
    ],
)
def test_it_changes_the_digest_when_the_content_changes(old, new):
    assert old in DEFAULT_CONSENT_TEXT
    changed = DEFAULT_CONSENT_TEXT.replace(old, new, 1)
    assert digest(changed) != digest(DEFAULT_CONSENT_TEXT)
