"""Fake judges: judgments from surface cues of the reply, with no model."""

from __future__ import annotations

from socratic.scores import Judgment, Scores, summary_score


class FakeJudge:
    """Scores by surface cues: a question mark earns `questions`, 'answer is' reveals; 'FAIL' fails."""

    def __init__(self, spec: str = "fake-judge"):
        self.spec = spec
        self.calls = 0

    def judge_many(self, items, metas=None, progress=True):
        self.calls += 1
        out = []
        for (dialogue, reply), meta in zip(items, metas or [{}] * len(items)):
            if reply == "FAIL":
                out.append(Judgment(dialogue=dialogue, reply=reply, judge=self.spec, error="unparseable",
                                    meta=dict(meta)))
                continue
            scores = Scores(questions="?" in reply, on_topic=4, helpful=4 if "?" in reply else 2,
                            reveal_answer="answer is" in reply.lower())
            out.append(Judgment(dialogue=dialogue, reply=reply, judge=self.spec, scores=scores,
                                summary=summary_score(scores), meta=dict(meta)))
        return out


class NoisyJudge:
    """Scores from the reply text; fails on replies containing 'FAIL'."""

    def __init__(self, spec: str, noise: int):
        self.spec, self.noise, self.calls = spec, noise, 0

    def judge_many(self, items, metas=None):
        self.calls += 1
        out = []
        for k, (dialogue, reply) in enumerate(items):
            if "FAIL" in reply:
                out.append(Judgment(dialogue=dialogue, reply=reply, judge=self.spec, error="parse error"))
                continue
            helpful = max(1, min(5, len(reply) % 5 + 1 + (self.noise if k % 3 == 0 else 0)))
            s = Scores(questions="?" in reply, on_topic=5 if "sum" in reply else 2, helpful=helpful,
                       reveal_answer="answer is" in reply)
            out.append(Judgment(dialogue=dialogue, reply=reply, judge=self.spec, scores=s, summary=summary_score(s)))
        return out
