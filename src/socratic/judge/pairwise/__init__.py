"""The `pairwise` judge: a pairwise (Bradley-Terry) reward model of (conversation, reply), fitted on the
order people give replies plus synthetic hard negatives (docs/pairwise-judge.md).

    features.py  the learned judge's features plus the dodge (and correctness) signals
    fit.py       training data (human, dev, synthetic and teacher pairs), RewardModel and `fit`
    store.py     the saved judge: save, load with every array checked, fit on first use (`load_or_train`)
    judge.py     PairwiseJudge: the summary from the utility, the criteria from its learned heads
"""
