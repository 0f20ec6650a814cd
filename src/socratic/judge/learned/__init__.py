"""The `learned` judge: per-criterion heads fitted on human labels only (docs/learned-judge.md).

    features.py  what it sees of a (dialogue, reply): text signals, MiniLM similarities, the embedding
    fit.py       the heads (LearnedModel) and how they are fitted (`fit_items`)
    store.py     the saved judge: save, load with every array checked, fit on first use (`load_or_train`)
    judge.py     LearnedJudge: scores and gates from a fitted model
"""
