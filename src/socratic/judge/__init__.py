"""Steps 2-3 of the method, judge and summarise: judges that score a tutor reply on the four Socratic
criteria, and the summary of the four (socratic.scores).

    from socratic.judge import load_judge
    judge = load_judge("rubric")                      # offline, deterministic rules
    judge = load_judge("learned")                     # offline, fitted on human labels (fits on first use)
    judge = load_judge("llm:openai:gpt-4o")           # the paper's prompted judge, any backend spec
    judge = load_judge("pairwise")                    # offline, pairwise reward model (fits on first use)
    judge = load_judge("qmark")                       # the '?' baseline every judge must beat
    judgments = judge.judge_many([(dialogue, reply), ...], metas=[{...}, ...])

Specs: `rubric`, `learned` (fitted on human labels, see socratic.judge.learned; `learned:PATH` for a
saved one), `pairwise` (a pairwise reward model, socratic.judge.pairwise; `pairwise:PATH`; once called
`reward`, a name that still works with a warning), `qmark` (the
one-character baseline, socratic.judge.baseline), or `llm:<backend spec>` (`llm:embedded`,
`llm:openai:MODEL[@BASE_URL]`, `llm:hf:PATH`). Each kind is one row of socratic.judge.registry (its class,
version and saved file); the functions here read that table.
Results are cached in the SQLite cache by (judge spec, prompt/rubric version, dialogue, reply).
`socratic.judge.stage.run(JudgeConfig)` is the `socratic judge` command, and
`socratic.judge.fitting.run(JudgeTrainConfig)` `socratic judge-train` (fit `learned` or `pairwise` and save it).
"""

from __future__ import annotations

from socratic.judge.base import Judge, Outcome
from socratic.judge.registry import kind_of
from socratic.store.cache import Cache

__all__ = ["Judge", "Outcome", "judge_detectors", "judge_version", "load_judge", "shared_detectors"]


def load_judge(spec: str, *, cache: Cache | None = None, max_tries: int = 3, concurrency: int = 4) -> Judge:
    """The judge named by `spec`. `cache=None` uses the default on-disk cache; pass NoCache() to bypass it."""
    kind, argument = kind_of(spec)
    return kind.load(spec, argument, cache=cache if cache is not None else Cache(), max_tries=max_tries,
                     concurrency=concurrency)


def judge_version(spec: str) -> str:
    """The version of the rules or prompt behind `spec`, without loading a model: what a stage that
    judges records, so that a new version of a judge re-judges (its cached judgments are keyed by it too)."""
    return kind_of(spec)[0].version()


def judge_detectors(spec: str) -> frozenset[str]:
    """The detectors and learned parts behind a judge spec, without loading it: the same names on the
    judge classes (`Judge.detectors`). The rule detectors are socratic.signals' functions
    (and the MiniLM embedding); `learned_heads` the learned judge's fitted heads; `dodge_signals` the
    pairwise judge's; `qmark` the '?' test; an LLM judge shares none of them."""
    return kind_of(spec)[0].judge_class().detectors


def shared_detectors(judge_a_spec: str, judge_b_spec: str) -> tuple[str, ...]:
    """The detectors two judges share, sorted; empty when they are independent of each other. An
    evaluation judge that shares detectors with the judge that ranked the training pairs (the reward)
    is not an independent check of it: a policy that games one games the other."""
    return tuple(sorted(judge_detectors(judge_a_spec) & judge_detectors(judge_b_spec)))
