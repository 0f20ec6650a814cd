"""Step 6 of the method: a judge against human labels (`socratic agreement`).

    measure.py  AgreementConfig and run(); kappa, correlations and their CIs (pure functions)
    table.py    the terminal table
    plots.py    the figures (confusion matrices, scatter of summary scores)
"""
