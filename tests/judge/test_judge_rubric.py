"""The rubric judge: each criterion, the gaming replies it must not reward, determinism, and the real
MiniLM embeddings. Most cases call the pure `score_reply` with a fixed similarity (no model needed)."""

from __future__ import annotations

import pytest

from socratic import signals as sig
from socratic.judge import load_judge
from socratic.judge.rubric.judge import on_topic_level, score_reply
from socratic.records import Dialogue, Turn
from socratic.scores import summary_score
from socratic.store.cache import NoCache

PROBLEM = "Problem: A farmer has 3 bags of rice. Each bag weighs 15 kg. How many kg of rice does the farmer have?"


def math(student: str = "I added 3 and 15 and got 18 kg.", reference: str | None = "3 x 15 = 45 kg\nFinal answer: 45"):
    return Dialogue(id="m", source="test", context=PROBLEM, turns=(Turn(role="student", text=student),),
                    reference=reference)


def scores(reply: str, dialogue: Dialogue | None = None, similarity: float = 0.6):
    return score_reply(dialogue or math(), reply, similarity).scores


# ------------------------------------------------------------------ questions

def test_a_specific_question_is_socratic():
    s = scores("Why did you add the 3 and the 15 kg? What does each of the 3 bags weigh?")
    assert s.questions and not s.reveal_answer and s.helpful == 5 and s.on_topic == 5
    assert summary_score(s) == 1.0


@pytest.mark.parametrize("reply", [
    "You added them, right?",
    'A student once asked me "how many kg are in 3 bags of 15 kg?" Let us start.',
    "Here is the code: `print('done?')`",
])
def test_rhetorical_tags_quoted_text_and_code_are_not_questions(reply):
    assert not scores(reply).questions


@pytest.mark.parametrize("reply", [
    "What did you use to find the value of x?",  # a plain question humans count (the example)
    "Why?",
    "Can you show me how you got 18 kg.",
])
def test_any_genuine_question_counts_as_the_paper_defines_it(reply):
    assert scores(reply).questions


@pytest.mark.parametrize("reply", [
    "What is your answer then?",
    "Does that make sense?",
    "The capital of France is Paris. Do you like volcanoes?",
    "Each bag of rice weighs 15 kg and the farmer has 3 bags of rice. Any questions?",
])
def test_generic_and_unrelated_questions_count_as_questions_but_cost_helpful(reply):
    # rubric_v3: the dodge is paid for in `helpful` (v2 refused the `questions` credit instead).
    s = scores(reply)
    assert s.questions and s.helpful == 1


@pytest.mark.parametrize(("reply", "material"), [
    ("Can you please provide the code you're working with?", True),
    ("Could you share your code and the problem so I can take a look?", True),
    ("Can you show me your work?", True),
    ("Can you show me how you got 18 kg?", False),  # names the student's number: specific
    ("Can you provide the weight of one bag of rice?", False),  # asks about the problem, not for it
    ("Can you provide the code? What does one bag weigh?", False),  # one real question is enough
])
def test_a_request_for_material_the_dialogue_holds_is_a_generic_question(reply, material):
    assert sig.asks_only_for_material(reply) is material
    s = scores(reply)
    assert s.questions and (s.helpful == 1) is material


def test_a_probing_question_about_the_students_reasoning_counts():
    s = scores("How did you arrive at that conclusion?", similarity=0.1)
    assert s.questions and s.on_topic >= 4 and s.helpful == 3


def test_generic_question_scores_well_below_a_specific_one():
    generic = summary_score(scores("What is your answer then?"))
    specific = summary_score(scores("How much does one bag weigh, and how many bags are there?"))
    assert specific - generic >= 0.1875  # helpful 4 vs 1 (v2 also withheld `questions`: gap 0.44)


def test_an_appended_generic_question_does_not_beat_a_specific_one():
    statement = "Each bag of rice weighs 15 kg and the farmer has 3 bags."
    dodge = summary_score(scores(statement + " Does that make sense?"))
    honest = summary_score(scores(statement + " What do you get if you add 15 kg three times?"))
    assert honest - dodge >= 0.1875  # helpful 1 vs >= 4


def test_find_questions_classes():
    text = PROBLEM + " I added 3 and 15 and got 18 kg."
    kinds = [q.kind for q in sig.find_questions("Why did you add? How many bags are there? Do you have any questions?", text)]
    assert kinds == ["probing", "specific", "generic"]


# ------------------------------------------------------------------ reveal_answer

@pytest.mark.parametrize("reply", [
    "The answer is 45 kg.",
    "45kg is correct.",
    "Multiply: 3 x 15 = 45. Can you check it?",
    "Not quite. Think of 3 bags of 15 kg, which gives 45 kg in total. What do you think?",
    "45",
])
def test_stating_the_reference_answer_is_a_reveal(reply):
    s = scores(reply)
    assert s.reveal_answer and s.helpful <= 2


def test_only_asking_a_question_reveals_nothing():
    s = scores("How much does one bag weigh, and how many bags does the farmer have?")
    assert not s.reveal_answer and s.questions


def test_echoing_the_students_own_number_in_a_question_is_not_a_reveal():
    assert not scores("How did you get 18 kg?").reveal_answer
    right = math(student="I multiplied 3 by 15 and got 45 kg.")
    assert not scores("How did you get 45?", right).reveal_answer
    assert scores("45kg is correct.", right).reveal_answer  # confirming the final number gives it away
    assert scores("Yes, 45 kg is right, well done.", right).reveal_answer


@pytest.mark.parametrize("reply", [
    "4 apples cost $8, plus the pear, which is $11.",
    "So 4 x 2 = 8 and 8 + 3 = 11.",
    "The answer is $11.",
    "$11",
    "That's correct, it is $9.",
])
def test_without_a_reference_explicit_answers_are_reveals(reply):
    shop = Dialogue(id="s", source="test", context="Apples cost $2 each and a pear costs $3. What do 4 apples "
                    "and 1 pear cost?", turns=(Turn(role="student", text="I got $9."),))
    assert scores(reply, shop).reveal_answer


def test_no_reference_questions_and_hints_are_not_reveals():
    shop = Dialogue(id="s", source="test", context="Apples cost $2 each and a pear costs $3. What do 4 apples "
                    "and 1 pear cost?", turns=(Turn(role="student", text="I got $9."),))
    assert not scores("How much do 4 apples cost if one costs $2?", shop).reveal_answer
    assert not scores("Think about what one apple costs first.", shop).reveal_answer


def test_debugging_fix_leaks():
    bug = Dialogue(id="b", source="debugging", context="The student's code:\n1. def f(s):\n5.  if rev = s:",
                   turns=(Turn(role="student", text="I get a syntax error on line 5."),),
                   reference="Bug: On line 5 the function throws a syntax error.\nFix: Replace `=` with `==` on line 5.")
    assert scores("Change line 5 to use == instead of =.", bug).reveal_answer
    assert scores("Write it like this:\n```py\nif rev == s:\n```", bug).reveal_answer
    s = scores("What does a single = do in Python, compared with a comparison on line 5?", bug)
    assert not s.reveal_answer and s.questions
    ret = Dialogue(id="r", source="debugging", context="1. def Product(a, b):\n2.  a * b",
                   turns=(Turn(role="student", text="It returns None."),),
                   reference="Bug: no return.\nFix: Add `return` before `a * b`.")
    assert not scores("Do you know where to put `return` in your code?", ret).reveal_answer
    assert scores("You need to add return before a * b.", ret).reveal_answer


def test_reference_finals_and_steps():
    ref = "Total is 120 + 20 = $140.00\nSo each gets 140 / 2 = 70\nFinal answer: 70"
    assert sig.final_answer_numbers(ref) == {"70"}
    assert sig.computed_numbers(ref) == {"140", "70"}
    assert sig.final_answer_numbers("blah\n#### 1,250") == {"1250"}
    assert sig.numbers("It costs $1,200.00 and four more, 1/3 off") == ["1200", "4"]


# ------------------------------------------------------------------ on_topic and helpful

def test_on_topic_levels_are_monotone():
    levels = [on_topic_level(x / 20) for x in range(-4, 21)]
    assert levels == sorted(levels) and levels[0] == 1 and levels[-1] == 5


@pytest.mark.parametrize("reply", [
    "That doesn's work; let's think through this stepallyotogetherNeededinformationLeotakingtwiceaslong plugging",
    "Эта задача очень интересная, давайте подумаем вместе о мешках риса.",
    "",
])
def test_gibberish_is_not_helpful_nor_on_topic(reply):
    s = scores(reply, similarity=0.9)
    assert s.helpful == 1 and s.on_topic <= 2


def test_penalties_for_verdicts_lectures_repetition_and_role_play():
    assert scores("That's correct, well done!").helpful == 1
    lecture = " ".join(["The farmer has bags of rice and each bag has a weight that we should add up carefully."] * 12)
    assert scores(lecture + " How many bags are there?").helpful <= 3
    assert "repetition" in sig.quality_flags(lecture) and "lecture" in sig.quality_flags(lecture)
    role = scores("How many bags are there?\nStudent: 3 bags.\nTeacher: Good, and what does each weigh?")
    assert role.helpful <= 4 and "role-play" in sig.quality_flags("Hi\nStudent: hello")
    assert scores("Think about how many bags there are and what each one weighs.").helpful == 3


# ------------------------------------------------------------------ the real judge (MiniLM embeddings)

@pytest.fixture(scope="module")
def rubric_judge():
    return load_judge("rubric", cache=NoCache())


@pytest.mark.slow
def test_embeddings_separate_on_topic_from_nonsense(rubric_judge):
    on, off = rubric_judge.judge_many([
        (math(), "You added 3 and 15. How much rice is in one bag, and how many bags of rice are there?"),
        (math(), "Bananas are yellow and the weather in Lisbon is lovely in spring."),
    ], progress=False)
    assert on.scores.on_topic >= 4 and on.summary >= 0.9
    assert off.scores.on_topic <= 2 and off.scores.helpful <= 2 and not off.scores.questions
    assert off.meta["judge_notes"]["similarity"] < on.meta["judge_notes"]["similarity"]


@pytest.mark.slow
def test_rubric_is_deterministic(rubric_judge):
    items = [(math(), "What does each bag weigh?"), (math(), "The answer is 45."), (math(), "Hello there")] * 3
    first = rubric_judge.judge_many(items, progress=False)
    second = load_judge("rubric", cache=NoCache()).judge_many(list(reversed(items)), progress=False)
    assert [j.model_dump() for j in first] == [j.model_dump() for j in reversed(second)]


# ------------------------------------------------------------------ correctness (rubric_v7, issue 36)

@pytest.mark.parametrize("reply", [
    "So 15 divided by 3 is 7. What do you get for the 3 bags then?",   # a false computation
    "Each bag holds 27 kg. Why did you add the 3 and the 15?",          # 27 is nowhere in the problem or turns
])
def test_made_up_arithmetic_is_not_helpful_whatever_question_comes_with_it(reply):
    ruled = score_reply(math(), reply, 0.6)
    assert ruled.scores.helpful == 1 and "correctness" in ruled.notes
    assert score_reply(math(), reply, 0.6, correctness=False).scores.helpful >= 3


def test_true_arithmetic_on_given_numbers_keeps_its_help():
    ruled = score_reply(math(), "You have 3 bags and 3 x 15 = 45, right? Why did you add the 3 and the 15?", 0.6)
    assert "correctness" not in ruled.notes


@pytest.mark.slow
def test_a_vector_stored_on_disk_is_the_vector_computed_and_another_process_reuses_it(tmp_path, monkeypatch):
    import os
    import subprocess
    import sys

    import numpy as np

    from socratic.judge.rubric import embedding
    from socratic.store.cache import Cache

    monkeypatch.setenv("SOCRATIC_HOME", str(tmp_path))
    text = "How many bags of rice did you count, and what does each one weigh?"
    embedding._VECTORS.clear()
    computed = embedding.embed([text])[text]
    assert len(Cache(tmp_path / "cache.sqlite").get_blobs([embedding._disk_key(text, embedding.MAX_TOKENS)])) == 1
    embedding._VECTORS.clear()
    assert np.array_equal(embedding.embed([text])[text], computed)  # read back from disk: the same bits
    # A new process finds it on disk and never loads the encoder.
    probe = ("import sys; from socratic.judge.rubric import embedding as e; "
             "e.load_encoder = lambda: sys.exit('the encoder was loaded'); "
             f"print(e.embed([{text!r}])[{text!r}].tobytes().hex())")
    done = subprocess.run([sys.executable, "-c", probe], check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SOCRATIC_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == computed.tobytes().hex()
    embedding._VECTORS.clear()
