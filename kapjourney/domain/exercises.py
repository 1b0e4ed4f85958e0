"""Integration exercises and the Stanley-Brown safety plan, as data (with their sources).

The exercise library is what a clinician can assign after (or between) dosing sessions; each
entry says how the client answers it (``kind``) and where it comes from. The safety plan is the
six-step Stanley-Brown structure, with a closing line on what matters most; its step keys are
the columns of ``models.SafetyPlan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ExerciseKind(StrEnum):
    TEXT = "text"  # written answers to one or more prompts
    INTENTION = "intention"  # the intention set before the session, shown back, then reflected on
    BREATHING = "breathing"  # a guided timer; the written reflection afterwards is optional
    LETTER = "letter"  # a letter to oneself


class ExerciseStatus(StrEnum):
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


RESPONSE_MAX = 5_000  # characters in an exercise response
NOTE_MAX = 1_000  # characters in a clinician's note to the client (the column's size)
ASSIGN_AHEAD_DAYS = 365  # a due date at most a year ahead


@dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    kind: ExerciseKind
    intro: str
    prompts: tuple[str, ...]
    minutes: int
    source: str

    @property
    def needs_text(self) -> bool:
        """Whether "done" needs some writing (a breathing practice is done by breathing)."""
        return self.kind != ExerciseKind.BREATHING


LIBRARY: tuple[Exercise, ...] = (
    Exercise(
        key="journal",
        title="Journal: after your session",
        kind=ExerciseKind.TEXT,
        intro="Write freely for a few minutes. There are no right answers, and it need not be "
        "tidy: a few words are enough.",
        prompts=(
            "What stands out from your session: an image, a feeling, a moment?",
            "What felt hard, and what felt easier than you expected?",
            "Is there anything you would like to talk through with your clinician?",
        ),
        minutes=10,
        source="Expressive writing (Pennebaker JW, Psychol Sci 1997;8:162-166); integration "
        "prompts written for KAP Journey.",
    ),
    Exercise(
        key="journal_week",
        title="Journal: a week on",
        kind=ExerciseKind.TEXT,
        intro="A look back over the days since your session.",
        prompts=(
            "What, if anything, has shifted since your session: in how you feel, think or act?",
            "Where did you notice an old pattern, and how did you meet it?",
            "What small step would you like to take this week?",
        ),
        minutes=10,
        source="Expressive writing (Pennebaker JW, Psychol Sci 1997;8:162-166); integration "
        "prompts written for KAP Journey.",
    ),
    Exercise(
        key="intention",
        title="Your intention, revisited",
        kind=ExerciseKind.INTENTION,
        intro="Before your session you set an intention. Here it is again.",
        prompts=(
            "Reading it now, what comes up for you?",
            "How did your session speak to it, directly or in a roundabout way?",
            "Is there anything you would now add to it or change?",
        ),
        minutes=10,
        source="Set and setting: an intention before dosing, revisited in integration "
        "(KAP protocol, clinical reference 3.2).",
    ),
    Exercise(
        key="values",
        title="Values reflection",
        kind=ExerciseKind.TEXT,
        intro="Values are directions, not goals: the ways you want to live, whatever happens.",
        prompts=(
            "Think of the areas of your life (family, friends, work, health, community, "
            "play). Which two or three matter most to you right now?",
            "In one of them, what kind of person do you want to be?",
            "What is one small action this week that would move you in that direction?",
        ),
        minutes=15,
        source="Values clarification from Acceptance and Commitment Therapy (Valued Living "
        "Questionnaire: Wilson KG et al., Psychol Rec 2010;60:249-272).",
    ),
    Exercise(
        key="breathing",
        title="Guided breathing",
        kind=ExerciseKind.BREATHING,
        intro="Box breathing: breathe in for 4, hold for 4, breathe out for 4, hold for 4. Sit "
        "comfortably. If holding your breath feels uncomfortable, simply breathe gently instead.",
        prompts=("Afterwards, if you like: how do you feel now, compared with before?",),
        minutes=4,
        source="Paced slow breathing (review: Zaccaro A et al., Front Hum Neurosci "
        "2018;12:353); box breathing is an equal four-count pattern.",
    ),
    Exercise(
        key="letter",
        title="A letter to yourself",
        kind=ExerciseKind.LETTER,
        intro="Write to yourself as a kind, wise friend would: someone who knows your "
        "struggles and cares about you.",
        prompts=(
            "What would that friend notice about what you have been going through?",
            "What would they want you to remember on a hard day?",
        ),
        minutes=15,
        source="Adapted from the self-compassionate letter exercise (Neff KD, "
        "self-compassion.org).",
    ),
)
EXERCISES: dict[str, Exercise] = {e.key: e for e in LIBRARY}


# --- The Stanley-Brown safety plan -----------------------------------------------------------


@dataclass(frozen=True)
class SafetyStep:
    key: str  # the column of models.SafetyPlan
    number: int  # 1-6 for the six steps; 0 for the closing "what matters most"
    heading: str
    prompt: str
    examples: str


SAFETY_PLAN_SOURCE = (
    "Stanley-Brown Safety Plan: Stanley B, Brown GK. Safety Planning Intervention. Cogn Behav "
    "Pract 2012;19:256-264. With follow-up calls, 45% less suicidal behaviour over six months "
    "(Stanley B et al., JAMA Psychiatry 2018;75:894-900)."
)
STEP_MAX = 2_000  # characters in one step

SAFETY_STEPS: tuple[SafetyStep, ...] = (
    SafetyStep(
        "warning_signs",
        1,
        "Warning signs",
        "What tells you a crisis may be starting? Thoughts, images, moods, situations or things "
        "you do.",
        "For example: not sleeping, pulling away from people, thinking "
        "\u201cwhat's the point\u201d.",
    ),
    SafetyStep(
        "coping",
        2,
        "Things I can do on my own",
        "What can you do by yourself to take your mind off things and get through a hard moment?",
        "For example: a walk, a shower, music, a breathing exercise, a favourite show.",
    ),
    SafetyStep(
        "distractions",
        3,
        "People and places that take my mind off things",
        "Who, or which places, help you feel a little better or less alone, without having "
        "to talk about how you feel?",
        "For example: a friend to text, a caf\u00e9, the library, a class, a park.",
    ),
    SafetyStep(
        "people",
        4,
        "People I can ask for help",
        "Who could you tell that you are struggling? Write their names and phone numbers.",
        "For example: a sister, a close friend, a neighbour.",
    ),
    SafetyStep(
        "professionals",
        5,
        "Professionals and crisis lines",
        "Which clinicians or services can you contact? Your clinic and the crisis lines are "
        "shown below, one tap away.",
        "For example: your clinician, your doctor, an urgent care centre.",
    ),
    SafetyStep(
        "environment",
        6,
        "Making my surroundings safer",
        "What can you, or someone you trust, do to make where you are safer for now?",
        "For example: asking someone to keep medicines for you, or to hold on to anything "
        "you might use to hurt yourself.",
    ),
    SafetyStep(
        "reasons",
        0,
        "What matters most to me",
        "The one thing, or the people, most important to you and worth living for.",
        "Optional. Some people write a name, a hope, or a place.",
    ),
)
STEPS: dict[str, SafetyStep] = {s.key: s for s in SAFETY_STEPS}
