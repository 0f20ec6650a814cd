"""Judges that score a tutor reply on the four Socratic criteria (see socratic.scores).

    from socratic.judge import load_judge
    judge = load_judge("rubric")                      # offline, deterministic rules
    judge = load_judge("learned")                     # offline, fitted on human labels (fits on first use)
    judge = load_judge("llm:openai:gpt-4o")           # the paper's prompted judge, any backend spec
    judge = load_judge("reward")                      # offline, pairwise reward model (fits on first use)
    judge = load_judge("qmark")                       # the '?' baseline every judge must beat
    judgments = judge.judge_many([(dialogue, reply), ...], metas=[{...}, ...])

Specs: `rubric`, `learned` (fitted on human labels, see socratic.judge.learned; `learned:PATH` for a
saved one), `reward` (a pairwise reward model, socratic.judge.reward; `reward:PATH`), `qmark` (the one-character baseline, socratic.judge.baseline), or `llm:<backend spec>`
(`llm:embedded`, `llm:openai:MODEL[@BASE_URL]`, `llm:hf:PATH`).
Results are cached in the SQLite cache by (judge spec, prompt/rubric version, dialogue, reply).
`socratic.judge.stage.run(JudgeConfig)` is the `socratic judge` command.
"""

from __future__ import annotations

from socratic.cache import Cache
from socratic.judge.base import Judge, Outcome
from socratic.specs import parse_judge_spec

__all__ = ["Judge", "Outcome", "judge_detectors", "judge_version", "load_judge", "shared_detectors"]


def load_judge(spec: str, *, cache: Cache | None = None, max_tries: int = 3, concurrency: int = 4) -> Judge:
    """The judge named by `spec`. `cache=None` uses the default on-disk cache; pass NoCache() to bypass it."""
    cache = cache if cache is not None else Cache()
    kind, backend_spec = parse_judge_spec(spec)
    if kind == "rubric":
        from socratic.judge.rubric.judge import RubricJudge

        return RubricJudge(cache=cache)
    if kind == "qmark":
        from socratic.judge.baseline import QuestionMarkJudge

        return QuestionMarkJudge(cache=cache)
    if kind == "learned":
        from pathlib import Path

        from socratic.judge.learned.judge import LearnedJudge
        from socratic.judge.learned.store import load, load_or_train

        model = load(Path(backend_spec).expanduser()) if backend_spec else load_or_train()
        return LearnedJudge(cache=cache, model=model, name=spec)
    if kind == "reward":
        from pathlib import Path

        from socratic.judge.reward import judge as reward_judge
        from socratic.judge.reward import store as reward_store

        model = reward_store.load(Path(backend_spec).expanduser()) if backend_spec else reward_store.load_or_train()
        return reward_judge.RewardJudge(cache=cache, model=model, name=spec)
    from socratic.judge.llm.judge import LLMJudge

    return LLMJudge(backend_spec, cache=cache, max_tries=max_tries, concurrency=concurrency)


def judge_version(spec: str) -> str:
    """The version of the rules or prompt behind `spec`, without loading a model: what a stage that
    judges records, so that a new version of a judge re-judges (its cached judgments are keyed by it too)."""
    kind, _ = parse_judge_spec(spec)
    if kind == "rubric":
        from socratic.judge.rubric.judge import RUBRIC_VERSION

        return RUBRIC_VERSION
    if kind == "qmark":
        from socratic.judge.baseline import QMARK_VERSION

        return QMARK_VERSION
    if kind == "learned":
        from socratic.judge.learned.features import FEATURES_VERSION
        from socratic.judge.learned.fit import LEARNED_VERSION

        return f"{LEARNED_VERSION}/{FEATURES_VERSION}"
    if kind == "reward":
        from socratic.judge.learned.features import FEATURES_VERSION
        from socratic.judge.reward.features import REWARD_FEATURES
        from socratic.judge.reward.fit import REWARD_VERSION

        return f"{REWARD_VERSION}/{REWARD_FEATURES}/{FEATURES_VERSION}"
    from socratic.judge.llm.judge import PROMPT_VERSION

    return PROMPT_VERSION


def judge_detectors(spec: str) -> frozenset[str]:
    """The detectors and learned parts behind a judge spec, without loading it: the same names on the
    judge classes (`Judge.detectors`). The rule detectors are socratic.signals' functions
    (and the MiniLM embedding); `learned_heads` the learned judge's fitted heads; `dodge_signals` the
    reward's; `qmark` the '?' test; an LLM judge shares none of them."""
    kind, _ = parse_judge_spec(spec)
    if kind == "rubric":
        from socratic.judge.rubric.judge import RubricJudge as cls
    elif kind == "learned":
        from socratic.judge.learned.judge import LearnedJudge as cls
    elif kind == "reward":
        from socratic.judge.reward.judge import RewardJudge as cls
    elif kind == "qmark":
        from socratic.judge.baseline import QuestionMarkJudge as cls
    else:
        from socratic.judge.llm.judge import LLMJudge as cls
    return cls.detectors


def shared_detectors(judge_a_spec: str, judge_b_spec: str) -> tuple[str, ...]:
    """The detectors two judges share, sorted; empty when they are independent of each other. An
    evaluation judge that shares detectors with the judge that ranked the training pairs (the reward)
    is not an independent check of it: a policy that games one games the other."""
    return tuple(sorted(judge_detectors(judge_a_spec) & judge_detectors(judge_b_spec)))
