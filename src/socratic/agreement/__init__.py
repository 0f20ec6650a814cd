"""Step 7 of the method, check the judge: a judge against human labels (`socratic agreement`).

    measure.py  AgreementConfig and run(); kappa, correlations and their CIs (pure functions)
    cv.py       out-of-fold judgments for a judge that learned from these labels (grouped k-fold)
    ranking.py  the judge's order of replies to one conversation: pairwise accuracy, the dodge suite
    teacher_check.py  does the judge know a teacher from a tutor: teacher-vs-model accuracy, style flips
    result.py   the schema of agreement.json (what report/ and export/ read)
    table.py    the terminal table
    plots.py    the figures (confusion matrices, scatter of summary scores)
"""
