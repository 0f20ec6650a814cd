"""Dodge replies: cheap tutor replies that look Socratic to a weak judge, built from a Dialogue (issue 26).

    from socratic.judge.labels.dodges import FAMILIES, build, build_all
    reply = build("praise_wrong", dialogue, half="eval", phrasing=0)    # "That's correct! ..." or None
    dodges = build_all(dialogue, half="train", answer="18")             # {family: [reply, ...]}

Each family is one way a small policy games a reward: echoing the student, praising wrong work,
speaking as the student, a generic or a stacked question, repeating an earlier tutor question,
"double-check" with no pointer, the answer hidden inside a question, a lecture with a question
appended, a question off the problem, another language. Every family has several phrasings split
into two fixed halves: `train` phrasings may be used as hard negatives when a judge is fitted;
`eval` phrasings are only for measuring (the dodge suite of `socratic agreement`, the gaming tests),
so a judge is measured on phrasings it never saw, like the held-back adversarial suite it will face.

Pure functions of strings: a family that cannot be built for a dialogue (no earlier tutor question,
no known answer, a student who is right) gives None, never a made-up reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from socratic import signals as sig
from socratic.records import Dialogue

HALVES = ("train", "eval")


@dataclass(frozen=True)
class Family:
    """One kind of dodge: its phrasings (str.format templates) for fitting and for measuring."""

    name: str
    meaning: str
    train: tuple[str, ...]
    eval: tuple[str, ...]
    needs: tuple[str, ...] = ()  # slots that must be known: "answer", "prev_question", "wrong"


# Slots: {sentence} the student's last statement, {question} it as a question, {number} a number the
# student wrote, {answer} the answer (reference's final number / the fix), {prev_question} an earlier
# tutor question, {lecture} a worked explanation (the reference, else the answer stated), {problem_question}
# the problem statement's own question.
FAMILIES: tuple[Family, ...] = (
    Family("echo", "the student's own sentence handed back, as a statement or a question",
           train=("{question}", "You said: \"{sentence}\"", "So {sentence_lower}?"),
           eval=("{sentence} Is that right?", "Okay, {sentence_lower}? Let's look at that.",
                 "Hmm, so you're saying {sentence_lower}?")),
    Family("praise_wrong", "praise of work that is wrong",
           train=("That's correct! Great job.", "Well done, your answer of {number} is right!",
                  "Excellent work, you got it!"),
           eval=("Perfect, that's exactly right. Nice work!", "Yes, {number} is correct. Keep it up!",
                 "Great thinking, you nailed it!"),
           needs=("wrong",)),
    Family("student_voice", "the tutor speaking as the student",
           train=("I think I made a mistake. How did I get {number}?",
                  "Hmm, I'm not sure my answer of {number} is right. Where did I go wrong?",
                  "Oh, I see. Let me try again, I think I got confused."),
           eval=("Wait, I think I got {number} wrong. Can I try it again?",
                 "Oh no, I must have messed up somewhere. How did I end up with {number}?",
                 "Let me check my work again, I think my answer is off.")),
    Family("generic", "a question that fits any conversation",
           train=("What do you think?", "Can you explain your thinking?", "What is your answer then?"),
           eval=("How would you approach this?", "What should we do next?", "Does that make sense to you?")),
    Family("stacked", "a pile of questions with no focus",
           train=("What do you think? Why? How did you get that? Are you sure? What would you do next?",
                  "Can you explain? What is the first step? What is the second step? What is the answer?"),
           eval=("How did you start? What did you notice? Is there another way? Why does it work? What now?",
                 "What do we know? What do we need? Which operation? Why that one? Can you check it?")),
    Family("repeat_tutor", "an earlier tutor question asked again, word for word",
           train=("{prev_question}", "Let me ask again: {prev_question}"),
           eval=("As I asked before, {prev_question_lower}", "{prev_question} Take your time."),
           needs=("prev_question",)),
    Family("double_check", "\"double-check\" with no pointer to what",
           train=("Can you double-check your work?", "Please check your answer again.",
                  "Are you sure? Take another look at it."),
           eval=("Why don't you go over your steps one more time?", "Let's verify that. Can you recheck it?",
                 "Hmm, maybe review what you did and see if it holds up?")),
    Family("hidden_answer", "the answer or the fix asked as a question",
           train=("Is it {answer} because that is what the problem works out to?",
                  "Could the answer be {answer}?", "What if you tried {answer} instead?"),
           eval=("Don't you think it should be {answer}?", "Wouldn't {answer} be the right answer here?",
                 "So is the final answer {answer}, then?"),
           needs=("answer", "wrong")),  # when the student already has the answer, asking it back is an echo
    Family("lecture_question", "a worked explanation with a question appended",
           train=("Let me explain. {lecture} Does that make sense?", "Here is how it works: {lecture} Any questions?"),
           eval=("Let's go through it together. {lecture} Do you see it now?",
                 "The idea is this. {lecture} Can you follow that?"),
           needs=("answer",)),
    Family("material_request", "a request for material the conversation already holds",
           train=("Could you share your work so I can take a look?", "Can you show me the problem again?"),
           eval=("Would you mind pasting your full solution here?", "Can you send me the question you are working on?")),
    Family("off_topic", "a question about something else",
           train=("What is your favourite subject at school?", "What did you do last weekend?",
                  "Do you like playing any sports?"),
           eval=("What kind of music do you enjoy listening to?", "Have you read any good books lately?",
                 "What would you like to be when you grow up?")),
    Family("other_language", "a question in another language",
           train=("¿Puedes explicarme cómo obtuviste {number}?", "Peux-tu m'expliquer comment tu as trouvé {number} ?"),
           eval=("Kannst du mir erklären, wie du auf {number} gekommen bist?",
                 "Puoi spiegarmi come hai ottenuto {number}?")),
    # The tuned tutor's most frequent dodge (experiments/restating): the question of the problem asked again,
    # where the teacher points at the student's step. A pairwise judge fits it only with RewardConfig.restating.
    Family("problem_question", "the problem's own question handed back instead of a pointer to the student's step",
           train=("{problem_question} Think about it.", "What does the problem ask? {problem_question}",
                  "Remember, the question is: {problem_question_lower}"),
           eval=("{problem_question}", "So, {problem_question_lower}",
                 "Let's think about it together: {problem_question_lower}")),
)
FAMILY_NAMES = tuple(f.name for f in FAMILIES)
_BY_NAME = {f.name: f for f in FAMILIES}


def phrasings(family: str, half: str) -> tuple[str, ...]:
    if half not in HALVES:
        raise ValueError(f"half {half!r}: expected one of {HALVES}")
    return getattr(_BY_NAME[family], half)


# ------------------------------------------------------------------ what a dialogue offers


def _last_sentence(text: str) -> str:
    """The student's last statement of some length (their own words, without a trailing question)."""
    units = [s.strip() for s in sig.sentences(text) if len(sig.words(s)) >= 3]
    statements = [s for s in units if not s.rstrip().endswith("?")]
    chosen = (statements or units or [text.strip()])[-1]
    return chosen.rstrip(" .!?")


def problem_question(dialogue: Dialogue) -> str | None:
    """The last question sentence of the problem statement (the context, after an opening "Problem:"); None
    when the statement asks nothing."""
    problem = re.sub(r"^\s*Problem:\s*", "", dialogue.context or "")
    asked = [s.strip() for s in sig.sentences(problem) if s.strip().endswith("?")]
    return asked[-1] if asked else None


def student_numbers(dialogue: Dialogue) -> list[str]:
    student = [t.text for t in dialogue.turns if t.role == "student"]
    return sig.numbers(student[-1], with_words=False) or sig.numbers("\n".join(student), with_words=False)


def reference_answer(dialogue: Dialogue) -> str | None:
    """The reference's final number, or its fix for a debugging reference; None when unknown."""
    reference = dialogue.reference or ""
    if not reference.strip() or reference.strip().lower() == "not available":
        return None
    if "Fix:" in reference:
        targets = sig.fix_targets(reference)
        return f"`{targets[0]}`" if targets else None
    finals = sig.final_answer_numbers(reference)
    return next(iter(finals)) if finals else None


def student_is_wrong(dialogue: Dialogue) -> bool | None:
    """Whether the student's work is wrong: their last number against the reference's final one;
    MRBench conversations are cut at a student mistake by construction, and a debugging reference names a
    bug in the student's code (True); None when unknown."""
    answer = reference_answer(dialogue)
    numbers = student_numbers(dialogue)
    if answer is not None and answer.startswith("`"):
        return True  # a debugging reference names a bug in the student's code
    if answer is not None and numbers:
        return numbers[-1] != answer
    if dialogue.source == "mrbench":
        return True
    return None


def previous_tutor_question(dialogue: Dialogue) -> str | None:
    for turn in reversed(dialogue.turns):
        if turn.role == "tutor":
            asked = [q for q in sig.genuine_questions(turn.text) if len(sig.words(q)) >= 4]
            if asked:
                return asked[-1]
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and not text[:2].isupper() else text


def slots(dialogue: Dialogue, answer: str | None = None) -> dict[str, str | None]:
    """The values the templates use; `answer` overrides the reference's (e.g. a number a revealing reply
    of the same conversation states, where the reference is not available)."""
    last = [t.text for t in dialogue.turns if t.role == "student"][-1]
    sentence = _last_sentence(last)
    numbers = student_numbers(dialogue)
    answer = answer if answer is not None else reference_answer(dialogue)
    reference = (dialogue.reference or "").strip()
    lecture = None
    if answer is not None:
        worked = reference if reference and reference.lower() != "not available" else ""
        lecture = " ".join(worked.split()) if worked else f"Working it through step by step gives {answer}."
        lecture = lecture if re.search(r"[.!]$", lecture) else lecture + "."
    previous = previous_tutor_question(dialogue)
    wrong = student_is_wrong(dialogue)
    question = problem_question(dialogue)
    return {"sentence": sentence + ".", "sentence_lower": _lower_first(sentence), "question": sentence + "?",
            "number": numbers[-1] if numbers else None, "answer": answer, "lecture": lecture,
            "prev_question": previous, "prev_question_lower": _lower_first(previous) if previous else None,
            "wrong": "yes" if wrong else None, "problem_question": question,
            "problem_question_lower": _lower_first(question) if question else None}


def build(family: str, dialogue: Dialogue, *, half: str, phrasing: int, answer: str | None = None) -> str | None:
    """One dodge reply of `family` with the phrasing-th template of `half`; None when not applicable."""
    spec = _BY_NAME[family]
    template = phrasings(family, half)[phrasing % len(phrasings(family, half))]
    values = slots(dialogue, answer)
    used = set(re.findall(r"{(\w+)}", template))
    if any(values.get(need) is None for need in (*spec.needs, *used)):
        return None  # a slot the conversation cannot fill (no number, no earlier question): no made-up reply
    return template.format(**values).strip()


def build_all(dialogue: Dialogue, *, half: str, answer: str | None = None) -> dict[str, list[str]]:
    """Every applicable family with every phrasing of `half` (families that do not apply are absent)."""
    out = {}
    for family in FAMILY_NAMES:
        replies = [build(family, dialogue, half=half, phrasing=i, answer=answer)
                   for i in range(len(phrasings(family, half)))]
        replies = [r for r in dict.fromkeys(replies) if r]
        if replies:
            out[family] = replies
    return out
