"""Steps 1-4 of the method (generate, judge, summarise, pair): preference data for DPO.

    generate.py  k sampled tutor replies per dialogue (`socratic generate`)
    pairs.py     judged candidates -> chosen/rejected pairs + dataset card (`socratic pairs`)
    oneshot.py   generate -> judge -> pairs into one folder (`socratic preferences`)

Judging itself (step 2) is socratic.judge.
"""
