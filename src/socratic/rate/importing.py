"""`socratic rate import SHEET/ratings-*.csv`: blind ratings back into numbers, per reply source.

    socratic rate import sheet/ratings-ann.csv sheet/ratings-bo.csv     # key: sheet/key.json

Reads the sheet's key.json (default: beside the first CSV), every rater's CSV (socratic.rate.ratings:
each checked whole before anything is written), and the evaluation's judgments.jsonl (the folder the
key names, or --evaluation); writes ratings.json (socratic.rate.result.RatingResult, atomically) next to
the key and returns it. Bad input is one line naming file, line and field, and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from socratic.errors import SocraticError
from socratic.rate import analysis
from socratic.rate.config import ImportConfig
from socratic.rate.ratings import read_all
from socratic.rate.result import JudgeAgreement, RatingResult
from socratic.rate.scale import SCALE
from socratic.rate.sheet import RatingKey, reply_hash
from socratic.scores import Formula, Judgment, judgment_summary
from socratic.store.jsonl import read_jsonl


def judge_summaries(path: Path, key: RatingKey,
                    formula: Formula) -> tuple[dict[str, dict[tuple[int, str], float]], int]:
    """(judge -> (item, source) -> summary for the rated replies the evaluation judged, the number of
    judgments left out because they judged another text than the sheet showed: the evaluation changed)."""
    items = {(k.dataset, k.dialogue_id): k for k in key.items}
    out: dict[str, dict[tuple[int, str], float]] = {}
    stale = 0
    for judgment in read_jsonl(path, Judgment):
        cells = out.setdefault(judgment.judge, {})
        item = items.get((judgment.meta.get("dataset"), judgment.dialogue.id))
        source = judgment.meta.get("model")
        letter = next((letter for letter, s in item.letters.items() if s == source), None) if item else None
        if letter is None:
            continue  # not a rated reply
        if item.replies[letter] != reply_hash(judgment.reply):
            stale += 1
            continue
        summary = judgment_summary(judgment, formula)
        if summary is not None:
            cells[(item.item, source)] = summary
    return out, stale


def run(config: ImportConfig) -> RatingResult:
    key_path = config.key_path()
    if not key_path.exists():
        raise SocraticError(f"{key_path}: no key.json there; name the sheet's key with --key")
    key = RatingKey.read(key_path)
    sheets = read_all(config.files, key)
    ratings = analysis.unblind(key, sheets)
    ci = {"seed": config.seed, "n_resamples": config.bootstrap}
    evaluation = config.evaluation or Path(key.evaluation)
    warnings: list[str] = []
    judges: list[JudgeAgreement] = []
    judgments = evaluation / "judgments.jsonl"
    if judgments.exists():
        by_judge, stale = judge_summaries(judgments, key, config.formula)
        judges = [analysis.judge_agreement(judge, ratings, summaries) for judge, summaries in by_judge.items()]
        if stale:
            warnings.append(f"{judgments}: {stale} judgments are of another text than the sheet showed (the "
                            "evaluation changed since the export): left out, counted as unjudged")
    else:
        warnings.append(f"{judgments} not found: no judge compared with the raters (name the folder with "
                        "--evaluation)")
    if len(sheets) < 2:
        warnings.append("one rater: no agreement between raters; ask a second rater for at least part of the items")
    pairs = analysis.rater_pairs(ratings)
    result = RatingResult(
        sheet=key.sheet, key=str(key_path.resolve()), evaluation=str(evaluation), files=[s.path for s in sheets],
        raters=[s.rater for s in sheets], items=len(key.items), sources=key.sources,
        scale=[level._asdict() for level in SCALE], formula=config.formula, seed=config.seed,
        n_resamples=config.bootstrap, by_source=analysis.by_source(ratings, key.sources, **ci),
        wins=analysis.win_rates(ratings, key.sources, **ci), rater_pairs=pairs,
        mean_kappa=analysis.mean_kappa(pairs), judges=judges, warnings=warnings,
        ratings=analysis.rating_rows(key, sheets))
    result.write(config.result_path())
    return result
