"""Pure text signals (the detectors): sentences, real questions, answer leaks, verdicts, hints, garbage.

    from socratic import signals
    signals.genuine_questions("Nice. What is 3 x 4?")     # ['What is 3 x 4?']

Everything here is a deterministic function of strings, so each signal has exact unit tests
(tests/judge/test_judge_rubric.py). The rubric judge turns them into the four scores; the learned and
pairwise judges take them as features; the dodge families, the judge-free metrics of socratic.evaluate and
the gaming checks reuse them. A judge that uses a detector names it in `Judge.detectors`, so two judges
sharing one are not counted as independent checks of each other (socratic.judge.shared_detectors).

Design notes (the rubric is the DPO reward, so it is written against the ways a model games it):
- A question counts only if it is a sentence addressed to the student that ends in "?" (or opens
  like one: "Can you ..."), outside quoted text and code, and is not a tag ("..., right?").
- Each question is classed `specific` (it names numbers or content words of the problem or the
  student's turns), `probing` (asks for the student's reasoning: "how did you get ...", "walk me
  through ...") or `generic` ("What is your answer then?", "Does that make sense?", a request for
  material the conversation holds: "Can you provide the code?"). Every genuine question earns the
  `questions` criterion (the paper's definition); only specific and probing ones earn `helpful`.
- A leak is the reference's final number (or code fix) stated outside an echoing question, a
  newly computed result ("= 45", "which is $11", "that gives 180") of a number the student has
  not written, a verdict on the student's number ("45kg is correct."), or a bare short answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# ---------------------------------------------------------------- text units

_CODE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_QUOTED = re.compile(r"\"[^\"\n]{0,300}\"|“[^”\n]{0,300}”")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]}]*\s+|(?<=\?)[\"')\]}]*|\n+")
_SPEAKER_TAG = re.compile(r"(?:^|\n|\b)(?:student|user|human|teacher|tutor|assistant)\s*:", re.IGNORECASE)
WORD = re.compile(r"[A-Za-z][A-Za-z']*")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def strip_quotes_and_code(text: str) -> str:
    """The reply without code and quoted passages: questions inside them are not asked of anyone."""
    text = _CODE_BLOCK.sub(" ", text)
    text = _INLINE_CODE.sub(" code ", text)
    return _QUOTED.sub(" quote ", text)


def words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in WORD.findall(text)]


# ---------------------------------------------------------------- numbers

# Fraction parts ("1/3", "\\frac{2}{6}") are left out: they are rarely final answers and a verdict
# sentence that mentions "2/6" is not about the student's final number 6.
_NUMBER = re.compile(r"(?<![\w.{/])[-−]?\$?\s?\d[\d,]*(?:\.\d+)?(?![\d/}])")
_NUMBER_WORDS = {w: i for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"])} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
    "hundred": 100, "half": 0.5, "twice": 2, "thrice": 3, "double": 2, "triple": 3}


def canonical_number(text: str) -> str | None:
    raw = text.replace("−", "-").replace("$", "").replace(",", "").replace(" ", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


@lru_cache(maxsize=8192)
def _numbers(text: str, with_words: bool) -> tuple[str, ...]:
    """Canonical numbers in order ("$1,200.00" -> "1200"); number words ("four") too."""
    found = [(m.start(), canonical_number(m.group())) for m in _NUMBER.finditer(text)]
    if with_words:
        found += [(m.start(), str(_NUMBER_WORDS[m.group().lower()]))
                  for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", text, re.IGNORECASE)]
    return tuple(n for _, n in sorted(found) if n is not None)


def numbers(text: str, *, with_words: bool = True) -> list[str]:
    """Canonical numbers in order ("$1,200.00" -> "1200"); number words ("four") too."""
    return list(_numbers(text, with_words))


def final_answer_numbers(reference: str) -> set[str]:
    """The final result(s) of a worked reference: "Final answer: 45", "#### 45", or its last line."""
    marked = re.findall(r"(?:final answer|answer is|####)\s*:?\s*([^\n]+)", reference, re.IGNORECASE)
    tail = marked[-1] if marked else reference.strip().splitlines()[-1] if reference.strip() else ""
    found = numbers(tail, with_words=False)
    return {found[-1]} if found else set()


def computed_numbers(reference: str) -> set[str]:
    """Intermediate results of a worked reference: the right-hand sides of its equations."""
    results = re.findall(r"=\s*(?:<<[^>]*>>)?\s*(\$?\s?[-−]?\d[\d,]*(?:\.\d+)?)", reference)
    return {n for n in (canonical_number(r) for r in results) if n is not None}


# ---------------------------------------------------------------- questions

_RHETORICAL_TAG = re.compile(
    r"(?:^|[,;:\s])(right|okay|ok|correct|yes|no|yeah|isn't it|aren't they|don't you think|you know|"
    r"got it|see|agreed|true|huh|wouldn't you say)\s*[?!.]*$", re.IGNORECASE)
_INTERROGATIVE_OPENER = re.compile(
    r"^(?:so,?\s+|and\s+|now,?\s+|then,?\s+|okay,?\s+|great,?\s+)?(?:can|could|would|will|do|did|does|is|are|"
    r"was|were|have|has|should|what|how|why|where|which|when|who)\b", re.IGNORECASE)
_GENERIC_QUESTION = re.compile(
    r"(what(?:'s| is| was) (?:your|the) (?:final )?(?:answer|result)|what do you think|do you understand|"
    r"does (?:that|this|it) make sense|any (?:other )?questions|are you sure|is (?:that|this|it) clear|"
    r"can you (?:solve|try|do) (?:it|this|that)(?: again)?|what would you (?:get|say)|shall we|"
    r"\bready\b|what(?:'s| is) next|how about (?:now|that)|what is it|got it|do you agree|"
    r"can you (?:think|try) (?:again|harder)|(?:want|like) to try again|what else)", re.IGNORECASE)
# A request for material ("Can you please provide the code you're working with?", "Could you share your
# work?"): the conversation already holds the problem and the student's code, so asking for them moves
# nothing forward. Generic whatever words it shares with the dialogue (it names "the code"), unless it
# names a number of it ("Can you show me how you got 70?" is specific).
_MATERIAL_REQUEST = re.compile(
    r"\b(?:can|could|would|will) you (?:please |kindly )?(?:provide|share|show|give|send|paste|post|upload|"
    r"copy|include)(?: me| us)?(?: with)? (?:(?:the|your|a|an|more|some|any|all|of|entire|full|whole|actual|"
    r"relevant|complete|specific|exact) )*(?:code|program|function|script|snippet|implementation|work|problem|"
    r"question|details?|information|context|error messages?|errors?|output|examples?)\b", re.IGNORECASE)
_PROBING_QUESTION = re.compile(
    r"(how (?:did|do|would|could|can|will) you|why (?:did|do|would) you|walk me through|(?:explain|describe|"
    r"tell me)\b|what (?:made|makes|led) you|where did (?:you|that|the)|how do you know|what does .{1,60} mean|"
    r"what (?:steps?|approach|method|operation|information|part|mistake|error)|which (?:step|part|number|"
    r"operation|line|value)|what happens|what (?:would|will|should) happen|how (?:many|much|long|far|often)|"
    r"how \w+ (?:did|do) you|\b(?:mistake|error|wrong|differently|another way|double-check|check|re-?read|"
    r"each step|step by step|equation|units?|formula|line \d+|variable|loop|function)\b)",
    re.IGNORECASE)
# Words that say nothing about the problem itself; overlap on them does not make a question specific.
_META = frozenset("""
a an the and or but so if then than that this these those there here it its is are was were be been being am
do does did done have has had having can could would should will shall may might must not no yes to of in on
at by for from with about into over under again also just only very really quite more most less some any all
each every other another such same what which who whom whose when where why how you your yours i me my we us
our they them their he him his she her think thought answer answers solution solutions problem problems step
steps question questions work working way right wrong correct incorrect sure try tell explain know mean get
got let lets let's please thing things something anything part first next last now well good great okay ok one
number numbers calculate calculation result results arrive arrived approach reasoning process figure find
found make made see look use used need needs want like go going come came take took give gave say said start
started method mistake error ready understand does doesn't don't didn't isn't aren't can't you're you've
""".split())  # noqa: SIM905 - a word list reads better as text


@dataclass(frozen=True)
class Question:
    text: str
    kind: str  # "specific" | "probing" | "generic"


@lru_cache(maxsize=4096)
def content_words(text: str) -> frozenset[str]:
    return frozenset( w.rstrip("s") for w in words(text) if len(w) >= 3 and w not in _META)


def find_questions(reply: str, dialogue_text: str) -> list[Question]:
    """Real questions to the student in `reply`, classed against the dialogue's text."""
    known_words = content_words(dialogue_text)
    known_numbers = set(numbers(dialogue_text))
    out = []
    for sentence in sentences(strip_quotes_and_code(reply)):
        sentence = sentence.strip(" \t*-_>\"'")
        ends_with_mark = sentence.rstrip("\"')]}*").endswith("?")
        if not ends_with_mark and not (_INTERROGATIVE_OPENER.match(sentence) and len(words(sentence)) >= 5
                                       and re.match(r"^\W*(can|could|would) you\b", sentence, re.IGNORECASE)):
            continue
        if len(words(sentence)) < 3 or _RHETORICAL_TAG.search(sentence.rstrip("?").strip() + "?") and \
                not _INTERROGATIVE_OPENER.match(sentence):
            continue
        question = sentence[sentence.rfind("?", 0, len(sentence) - 1) + 1:].strip() if ends_with_mark else sentence
        shared_words = content_words(question) & known_words
        shared_numbers = set(numbers(question)) & known_numbers
        generic = _GENERIC_QUESTION.search(question)
        if _MATERIAL_REQUEST.search(question) and not shared_numbers:
            kind = "generic"
        elif shared_numbers or len(shared_words) >= 2 or (shared_words and not generic):
            kind = "specific"
        elif generic:
            kind = "generic"
        elif _PROBING_QUESTION.search(question):
            kind = "probing"
        else:
            kind = "generic"
        out.append(Question(sentence, kind))
    return out


def asks_only_for_material(reply: str) -> bool:
    """Every question of the reply asks for material the conversation already holds ("Can you please
    provide the code you're working with?"): a dodge, whatever it shares with the dialogue."""
    asked = genuine_questions(reply)
    return bool(asked) and all(_MATERIAL_REQUEST.search(q) and not numbers(q) for q in asked)


def genuine_questions(reply: str) -> list[str]:
    """Every question the reply asks the student, by the paper's definition ("does the response contain
    questions?"): high recall, whatever its quality. Not counted: rhetorical tags ("..., right?"),
    questions inside quoted text or code. Counted: any other sentence ending in "?" (even "Why?"), and
    a request phrased as a question without the mark ("Can you show me how you got 12.")."""
    out = []
    for sentence in sentences(strip_quotes_and_code(reply)):
        sentence = sentence.strip(" \t*-_>\"'")
        if sentence.rstrip("\"')]}*").endswith("?"):
            if _RHETORICAL_TAG.search(sentence.rstrip("?").strip() + "?") and \
                    not _INTERROGATIVE_OPENER.match(sentence):
                continue
            if words(sentence):
                out.append(sentence)
        elif re.match(r"^\W*(can|could|would) you\b", sentence, re.IGNORECASE) and len(words(sentence)) >= 5:
            out.append(sentence)
    return out


# ---------------------------------------------------------------- answer leaks

_RESULT_CUE = re.compile(
    r"(=|\bequals?\b|\bwhich is\b|\bthat(?:'s| is)\b|\bgives?(?: us| you)?\b|\bmakes?\b|\btotal(?:s| of)?\b|"
    r"\bcomes? to\b|\bresults? in\b|\bget\b|\bis\b|\bare\b|\bwere\b|\bwas\b|\bwould be\b|\bwill be\b|"
    r"\bshould be\b|\bleaves?(?: us| you)?\b|\bexactly\b|\bjust\b)\s*\$?\s*[-−]?\d", re.IGNORECASE)
_EXPLICIT_ANSWER = re.compile(
    r"\b(?:the (?:final |correct |right |real )?(?:answer|solution|result) (?:is|should be|would be|will be)|"
    r"(?:so|thus|therefore|hence),? the (?:answer|total|result)|the answer:|answer\s*=)", re.IGNORECASE)
_VERDICT = re.compile(
    r"\b(?:correct(?:ly)?|right|exactly|precisely|well done|good job|great job|that's it|spot on|perfect|"
    r"incorrect|wrong|not right|not correct|mistake)\b", re.IGNORECASE)
_DIRECTIVE = re.compile(r"\b(?:add|insert|replace|change|use|put|remove|delete|swap|move|should be|instead|"
                        r"need to|have to|must|fix)\b", re.IGNORECASE)


def _is_question(sentence: str) -> bool:
    return sentence.rstrip("\"')]}* ").endswith("?")


def fix_targets(reference: str) -> list[str]:
    """Code a debugging reference says to write: "Replace `a` with `b`" -> b; "Add `x`" -> x; code blocks."""
    fix = reference.split("Fix:", 1)[1] if "Fix:" in reference else reference
    targets = re.findall(r"(?:with|to|insert|add|use)\s+`([^`]+)`", fix, re.IGNORECASE)
    targets += re.findall(r"\b(?:to|with)\s+([<>=!%/*+-]{1,3})(?=\s|$|\.)", fix)  # "Change the > to >="
    for block in re.findall(r"```[a-z]*\n(.*?)```", fix, re.DOTALL):
        targets += [line.strip() for line in block.splitlines() if len(line.strip()) >= 6]
    return [t.strip() for t in targets if t.strip()]


def find_leaks(reply: str, *, reference: str | None, given_text: str, student_text: str,
               student_final: str | None) -> list[str]:
    """Reasons why `reply` gives the answer away; empty when it does not.

    `given_text`: everything the student and problem already state (numbers there are not news);
    `student_text`: the student's own turns; `student_final`: the last number the student gave.
    """
    reasons: list[str] = []
    given = set(numbers(given_text))
    student_numbers = set(numbers(student_text))
    code_free = _CODE_BLOCK.sub(" ", reply)
    units = sentences(code_free)
    is_math_reference = bool(reference and final_answer_numbers(reference)) and "Fix:" not in (reference or "")

    if reference and is_math_reference:
        finals = final_answer_numbers(reference)
        steps = computed_numbers(reference) - given
        for sentence in units:
            found = set(numbers(sentence))
            for final in finals & found:
                echo = _is_question(sentence) and final in student_numbers
                if not echo:
                    reasons.append(f"states the reference's final answer {final}")
            if not _is_question(sentence) and _RESULT_CUE.search(sentence):
                for step in (steps - finals) & found:
                    reasons.append(f"works out the reference's intermediate result {step}")
    if reference and not is_math_reference:
        seen = given_text.replace(" ", "")
        for target in fix_targets(reference):
            compact = target.replace(" ", "")
            if len(compact) < 2:
                continue
            if re.fullmatch(r"\w+", target):
                if re.search(rf"\b{re.escape(target)}\b", given_text):
                    continue  # the student already wrote it
            elif compact in seen:
                continue
            for sentence in units + [m.group() for m in _CODE_BLOCK.finditer(reply)]:
                if compact not in sentence.replace(" ", ""):
                    continue
                if _is_question(sentence) and not _SUGGESTION.search(sentence):
                    continue  # "What does `>=` check?" points at it; "What if you tried `>=`?" hands it over
                if re.fullmatch(r"[A-Za-z_]+", target) and not _DIRECTIVE.search(sentence):
                    continue  # a bare keyword like `return` is a hint unless the reply says what to do
                reasons.append(f"states the fix {target!r}")
                break

    for sentence in units:
        if _is_question(sentence):
            # A question can hand over the answer too: "Is it 18 because 58 - 40 = 18?", "Could the answer
            # be 18?". Worked results and answer-shaped numbers the student has not written are leaks.
            for number in _hidden_results(sentence) - given:
                reasons.append(f"hides a new result {number} inside a question")
            continue
        found = numbers(sentence)
        if _EXPLICIT_ANSWER.search(sentence) and found:
            reasons.append(f"states an answer: {sentence[:60]!r}")
        new = [n for n in found if n not in given]
        # With a worked reference the checks above know which numbers are right; a new wrong number
        # is a mistake of the tutor, not a leak. Without one, any newly computed result is a leak.
        if new and not is_math_reference and _RESULT_CUE.search(sentence):
            reasons.append(f"computes a new result {new[-1]}")
        if student_final and student_final in found and _VERDICT.search(sentence):
            reasons.append(f"gives a verdict on the student's answer {student_final}")
    if not is_math_reference and not any(_is_question(s) for s in units) and len(words(code_free)) <= 6 \
            and numbers(code_free):
        reasons.append("a bare answer")
    return list(dict.fromkeys(reasons))


_SUGGESTION = re.compile(r"\b(?:what if|how about|tr(?:y|ied)|instead|should(?:n't)? (?:it|you|we)|"
                         r"could you (?:use|change|add|replace)|why not)\b", re.IGNORECASE)
_ANSWER_SHAPED = re.compile(
    r"(?:=|\bequals?\b|\b(?:answer|result|total|it|that)\s+(?:be|is|was|would be|should be)\b|"
    r"\b(?:is|be|isn't|wouldn't) (?:it|the answer|that)\b|\bbecause\b)\s*\$?\s*([-−]?\d[\d,]*(?:\.\d+)?)",
    re.IGNORECASE)


def _hidden_results(question: str) -> set[str]:
    """Numbers a question states as a result: right of "=", or as what "it"/"the answer" is."""
    found = {canonical_number(m.group(1)) for m in _ANSWER_SHAPED.finditer(question)}
    return {n for n in found if n is not None}


_HINT = re.compile(r"\b(?:think (?:about|through|of)|consider|look (?:at|again)|check|notice|remember|recall|"
                   r"focus on|pay attention|re-?read|try)\b", re.IGNORECASE)


def is_hint(reply: str) -> bool:
    """A statement that points the student at something to work on ("Think about how ...")."""
    return bool(_HINT.search(reply))


def is_verdict_only(reply: str) -> bool:
    """Praise or a verdict and nothing to work on ("That's correct, well done.")."""
    units = sentences(reply)
    return bool(units) and all(_VERDICT.search(s) and not _is_question(s) and len(words(s)) <= 12 for s in units)


# ---------------------------------------------------------------- text quality

_ENGLISH = frozenset("""the a an and or but of to in on at for with is are was were be it this that you your
what how why can could would do did does have has we i my not so if then there here which when let's lets let us
our now as by from all each up out one just more than too also try great good yes no about before after get got
need see think first next""".split())  # noqa: SIM905


@lru_cache(maxsize=4096)
def quality_flags(reply: str) -> tuple[str, ...]:
    """Reasons the reply is not usable text: gibberish, non-English, repetition, role-play."""
    flags = []
    letters = [ch for ch in reply if ch.isalpha()]
    if letters:
        run_on = sum(len(w) for w in re.findall(r"[A-Za-z]{19,}", reply))
        if run_on / len(letters) > 0.12:
            flags.append("gibberish")
    tokens = words(reply)
    if letters and (sum(not ch.isascii() for ch in letters) / len(letters) > 0.2 or
                    (len(tokens) >= 8 and sum(t in _ENGLISH for t in tokens) / len(tokens) < 0.1)):
        # Accented Latin languages (Spanish, French) are mostly ASCII: English function words tell them apart.
        flags.append("non-English")
    if len(tokens) >= 30:
        trigrams = list(zip(tokens, tokens[1:], tokens[2:], strict=False))
        if len(set(trigrams)) / len(trigrams) < 0.6:
            flags.append("repetition")
    if _SPEAKER_TAG.search(reply) or re.search(r"<\|[a-z_]+\|>|\[/?INST\]", reply):
        flags.append("role-play")
    if len(tokens) > 120:
        flags.append("lecture")
    if not letters and not numbers(reply):
        flags.append("empty")
    return tuple(flags)
