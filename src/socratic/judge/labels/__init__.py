"""What the judges learn from and are measured against; no judge lives here.

    human.py          the human-labelled replies (shipped labels, deduplicated) and their identities:
                      `item_key` (the same reply) and `group_key` (the same problem: one CV fold)
    human_order.py    orders of replies to one conversation by the human labels: preference pairs
    dodges.py         cheap replies that game a weak judge, built from a dialogue (TRAIN phrasings are
                      hard negatives for fitting, EVAL phrasings only measure)
    teacher_vs_model.py  the real teacher's next turn vs the small model's replies, from training dialogues
    perturb.py        style changes that must not change a judge's preference (case, typos, filler)

The fitted judges (learned, pairwise) train on them; `socratic agreement` and the gaming tests measure every
judge with them; socratic.evaluate.clean uses `group_key` to keep test items the judges never saw.
"""
