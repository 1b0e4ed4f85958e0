"""Questionnaires as data: items, choices, skip logic, scoring and bands.

The engine (``score``) knows nothing about any one instrument; PHQ-9, GAD-7, PCL-5 and the intake
screening below are plain data, and the next instruments (C-SSRS, side-effect forms) are too.
Wording and scoring follow the published instruments; each names its source, shown in the app.
Which answers alert the care team, and how gravely, is not part of an instrument: those are the
clinic's safety rules (``domain.safety``), applied by the services to the visible answers.
The app supports clinical work: bands and flags are for clinician review, never a diagnosis.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

TEXT_ANSWER_MAX = 2000


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    key: str
    text: str
    kind: str = "choice"  # "choice" | "yesno" | "text"
    choices: tuple[Choice, ...] = ()
    scored: bool = True
    required: bool = True
    flag: str = ""  # yes/no items: the flag raised by "yes"
    hint: str = ""
    # Asked only when another item has this answer (C-SSRS skip logic): (item key, value).
    show_if: tuple[str, int] | None = None

    def shown(self, answers: Mapping[str, object]) -> bool:
        return self.show_if is None or answers.get(self.show_if[0]) == self.show_if[1]


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    label: str


@dataclass(frozen=True)
class Instrument:
    key: str
    version: str
    title: str
    short_title: str
    preamble: str
    items: tuple[Item, ...]
    source: str
    bands: tuple[Band, ...] = ()
    cutoff: int | None = None  # a published screening cut-off, when the instrument has one
    cutoff_label: str = ""
    minutes: int = 2

    @property
    def scored(self) -> bool:
        return any(item.scored and item.kind == "choice" for item in self.items)

    @property
    def max_score(self) -> int:
        return sum(max(c.value for c in i.choices) for i in self.items if _counts(i))

    def item(self, key: str) -> Item | None:
        return next((i for i in self.items if i.key == key), None)


@dataclass(frozen=True)
class Scored:
    """The outcome of ``score``: missing items, or a total, its band and flags."""

    missing: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    total: int | None = None
    band: str = ""
    flags: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing and not self.invalid


def _counts(item: Item) -> bool:
    return item.scored and item.kind == "choice"


def answer_problem(item: Item, value: object) -> str:
    """Why ``value`` is not a valid answer to ``item`` ("" when it is)."""
    if item.kind == "text":
        if not isinstance(value, str):
            return "Please type your answer."
        if len(value) > TEXT_ANSWER_MAX:
            return f"Please keep this under {TEXT_ANSWER_MAX} characters."
        return ""
    allowed = {c.value for c in item.choices} if item.kind == "choice" else {0, 1}
    if type(value) is not int or value not in allowed:
        return "Please choose one of the answers."
    return ""


def score(instrument: Instrument, answers: Mapping[str, object]) -> Scored:
    missing, invalid = [], []
    answers = visible_answers(instrument, answers)
    for item in instrument.items:
        if not item.shown(answers):
            continue
        value = answers.get(item.key)
        if value is None or value == "":
            if item.required:
                missing.append(item.key)
        elif answer_problem(item, value):
            invalid.append(item.key)
    if missing or invalid:
        return Scored(missing=tuple(missing), invalid=tuple(invalid))
    total = None
    band = ""
    if instrument.scored:
        total = sum(int(answers.get(i.key) or 0) for i in instrument.items if _counts(i))  # type: ignore[call-overload]
        band = next((b.label for b in instrument.bands if b.low <= total <= b.high), "")
    flags = tuple(
        i.flag for i in instrument.items if i.kind == "yesno" and i.flag and answers.get(i.key) == 1
    )
    if instrument.cutoff is not None and total is not None and total >= instrument.cutoff:
        flags += (f"{instrument.key}_cutoff",)
    return Scored(total=total, band=band, flags=flags)


def visible_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, object]:
    """The answers to items that are asked, given the other answers (skip logic applied in
    order, so an answer left behind by a changed earlier answer no longer counts)."""
    kept: dict[str, object] = {}
    for item in instrument.items:
        if item.key in answers and item.shown(kept):
            kept[item.key] = answers[item.key]
    return kept


FREQUENCY_2W = (
    Choice(0, "Not at all"),
    Choice(1, "Several days"),
    Choice(2, "More than half the days"),
    Choice(3, "Nearly every day"),
)

PHQ9 = Instrument(
    key="phq9",
    version="1",
    title="Patient Health Questionnaire (PHQ-9)",
    short_title="PHQ-9 · mood",
    preamble=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=(
        Item("q1", "Little interest or pleasure in doing things", choices=FREQUENCY_2W),
        Item("q2", "Feeling down, depressed, or hopeless", choices=FREQUENCY_2W),
        Item("q3", "Trouble falling or staying asleep, or sleeping too much", choices=FREQUENCY_2W),
        Item("q4", "Feeling tired or having little energy", choices=FREQUENCY_2W),
        Item("q5", "Poor appetite or overeating", choices=FREQUENCY_2W),
        Item(
            "q6",
            "Feeling bad about yourself — or that you are a failure or have let yourself or your "
            "family down",
            choices=FREQUENCY_2W,
        ),
        Item(
            "q7",
            "Trouble concentrating on things, such as reading the newspaper or watching television",
            choices=FREQUENCY_2W,
        ),
        Item(
            "q8",
            "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
            "being so fidgety or restless that you have been moving around a lot more than usual",
            choices=FREQUENCY_2W,
        ),
        Item(
            "q9",
            "Thoughts that you would be better off dead or of hurting yourself in some way",
            choices=FREQUENCY_2W,
        ),
        Item(
            "q10",
            "If you checked off any problems, how difficult have these problems made it for you "
            "to do your work, take care of things at home, or get along with other people?",
            choices=(
                Choice(0, "Not difficult at all"),
                Choice(1, "Somewhat difficult"),
                Choice(2, "Very difficult"),
                Choice(3, "Extremely difficult"),
            ),
            scored=False,
            required=False,
        ),
    ),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 19, "Moderately severe"),
        Band(20, 27, "Severe"),
    ),
    # Item 9 above zero is clinically significant whatever the total (clinical reference 3.1):
    # the safety rule "phq9_item9" alerts the care team, and the C-SSRS screener follows.
    source=(
        "PHQ-9: Kroenke K, Spitzer RL, Williams JBW. J Gen Intern Med 2001;16:606-613. "
        "Developed by Drs. Spitzer, Williams, Kroenke and colleagues with a grant from Pfizer Inc."
    ),
    minutes=3,
)

GAD7 = Instrument(
    key="gad7",
    version="1",
    title="Generalized Anxiety Disorder scale (GAD-7)",
    short_title="GAD-7 · anxiety",
    preamble="Over the last 2 weeks, how often have you been bothered by the following problems?",
    items=(
        Item("q1", "Feeling nervous, anxious, or on edge", choices=FREQUENCY_2W),
        Item("q2", "Not being able to stop or control worrying", choices=FREQUENCY_2W),
        Item("q3", "Worrying too much about different things", choices=FREQUENCY_2W),
        Item("q4", "Trouble relaxing", choices=FREQUENCY_2W),
        Item("q5", "Being so restless that it is hard to sit still", choices=FREQUENCY_2W),
        Item("q6", "Becoming easily annoyed or irritable", choices=FREQUENCY_2W),
        Item("q7", "Feeling afraid, as if something awful might happen", choices=FREQUENCY_2W),
    ),
    bands=(
        Band(0, 4, "Minimal"),
        Band(5, 9, "Mild"),
        Band(10, 14, "Moderate"),
        Band(15, 21, "Severe"),
    ),
    source=(
        "GAD-7: Spitzer RL, Kroenke K, Williams JBW, Löwe B. Arch Intern Med 2006;166:1092-1097."
    ),
)

BOTHERED_MONTH = (
    Choice(0, "Not at all"),
    Choice(1, "A little bit"),
    Choice(2, "Moderately"),
    Choice(3, "Quite a bit"),
    Choice(4, "Extremely"),
)

_PCL5_ITEMS = (
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again "
    "(as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience "
    "(for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, "
    "having thoughts such as: I am bad, there is something seriously wrong with me, no one can "
    "be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or have "
    "loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
)

PCL5 = Instrument(
    key="pcl5",
    version="1",
    title="PTSD Checklist for DSM-5 (PCL-5)",
    short_title="PCL-5 · stress",
    preamble=(
        "Below is a list of problems that people sometimes have in response to a very stressful "
        "experience. Please read each problem carefully and then select one of the options to "
        "indicate how much you have been bothered by that problem in the past month. "
        "In the past month, how much were you bothered by:"
    ),
    items=tuple(
        Item(f"q{n}", text, choices=BOTHERED_MONTH) for n, text in enumerate(_PCL5_ITEMS, 1)
    ),
    # The PCL-5 has no severity bands; a provisional cut-off of 31-33 is published.
    bands=(Band(0, 32, "Below the provisional cut-off"), Band(33, 80, "At or above 33")),
    cutoff=33,
    cutoff_label="Provisional PTSD cut-off (31-33; 33 used here)",
    source=(
        "PCL-5: Weathers FW, Litz BT, Keane TM, et al. National Center for PTSD, 2013. "
        "Public domain."
    ),
    minutes=5,
)

INTAKE = Instrument(
    key="intake",
    version="1",
    title="Health screening",
    short_title="Health screening",
    preamble=(
        'A few questions your care team reviews before planning ketamine sessions. A "yes" '
        "does not rule you out: it tells your clinician what to talk through with you."
    ),
    items=(
        Item(
            "pregnancy",
            "Are you pregnant, trying to become pregnant, or breastfeeding?",
            kind="yesno",
            flag="pregnancy",
        ),
        Item(
            "psychosis",
            "Have you ever had psychosis (for example hearing or seeing things others did not, "
            "or a diagnosis of schizophrenia)?",
            kind="yesno",
            flag="psychosis_history",
        ),
        Item(
            "mania",
            "Have you ever had a manic or hypomanic episode, or a diagnosis of bipolar disorder?",
            kind="yesno",
            flag="mania_history",
        ),
        Item(
            "blood_pressure",
            "Do you have high blood pressure that is not controlled, or a heart condition?",
            kind="yesno",
            flag="uncontrolled_bp",
        ),
        Item(
            "substance_use",
            "In the past year, have you used alcohol, ketamine or other drugs more than you "
            "meant to, or had problems because of them?",
            kind="yesno",
            flag="substance_use",
        ),
        Item(
            "benzodiazepines",
            "Do you take a benzodiazepine (for example lorazepam, clonazepam, alprazolam or "
            "diazepam)?",
            kind="yesno",
            flag="benzodiazepines",
        ),
        Item(
            "bladder",
            "Have you had bladder or urinary problems (pain, urgency, blood in the urine)?",
            kind="yesno",
            flag="bladder",
        ),
        Item(
            "medicines",
            "Which medicines do you take now? Name and dose, if you know them.",
            kind="text",
            required=False,
            hint="Optional. Include supplements.",
        ),
    ),
    source=(
        "Exclusions and cautions drawn from KAP consent templates and the esketamine "
        "(Spravato) label; see the clinical reference."
    ),
    minutes=2,
)

_CSSRS_MONTH = "In the past month"

CSSRS = Instrument(
    key="cssrs",
    version="1",
    title="Columbia Suicide Severity Rating Scale, screener (C-SSRS)",
    short_title="C-SSRS · safety check",
    preamble=(
        "You told us about thoughts of death or of hurting yourself. These questions help your "
        "care team understand how to support you. Answer for the past month unless asked "
        "otherwise. If you are in danger right now, call your emergency number."
    ),
    items=(
        Item(
            "q1",
            f"{_CSSRS_MONTH}, have you wished you were dead or wished you could go to sleep and "
            "not wake up?",
            kind="yesno",
        ),
        Item(
            "q2",
            f"{_CSSRS_MONTH}, have you actually had any thoughts of killing yourself?",
            kind="yesno",
        ),
        Item(
            "q3",
            "Have you been thinking about how you might do this?",
            kind="yesno",
            show_if=("q2", 1),
        ),
        Item(
            "q4",
            "Have you had these thoughts and had some intention of acting on them?",
            kind="yesno",
            show_if=("q2", 1),
        ),
        Item(
            "q5",
            "Have you started to work out or worked out the details of how to kill yourself? "
            "Do you intend to carry out this plan?",
            kind="yesno",
            show_if=("q2", 1),
        ),
        Item(
            "q6",
            "Have you ever done anything, started to do anything, or prepared to do anything to "
            "end your life?",
            kind="yesno",
            hint="For example: collected pills, obtained a gun, gave away valuables, wrote a "
            "will or suicide note, or held a gun but changed your mind.",
        ),
        Item(
            "q6_recent",
            "Was this within the past 3 months?",
            kind="yesno",
            show_if=("q6", 1),
        ),
    ),
    # Which answers alert, and how gravely, are clinic safety rules (``domain.safety``).
    source=(
        "C-SSRS Screen Version: Posner K, Brown GK, Stanley B, et al. Am J Psychiatry "
        "2011;168:1266-1277. The Columbia Lighthouse Project; free for healthcare use "
        "(cssrs.columbia.edu)."
    ),
    minutes=2,
)

INSTRUMENTS: dict[str, Instrument] = {i.key: i for i in (INTAKE, PHQ9, GAD7, PCL5, CSSRS)}

FLAG_LABELS = {
    "pregnancy": "Pregnancy, planned pregnancy or breastfeeding",
    "psychosis_history": "History of psychosis",
    "mania_history": "History of mania or bipolar disorder",
    "uncontrolled_bp": "Uncontrolled blood pressure or heart condition",
    "substance_use": "Substance use in the past year",
    "benzodiazepines": "Takes a benzodiazepine",
    "bladder": "Bladder or urinary problems",
    "pcl5_cutoff": "PCL-5 at or above the provisional cut-off",
}
