"""Step 6 of the method, evaluate: base vs tuned models on the test sets (`socratic evaluate`).

    evaluation.py  EvaluateConfig and run(): greedy replies, judged, resumable (the I/O edge)
    summary.py     the aggregation, pure: means with CIs, criteria, paired tests, reply changes
    result.py      the schemas of replies.jsonl and evaluation.json
    stats.py       bootstrap confidence intervals and paired-bootstrap p-values (pure)
    changes.py     how a tuned reply differs from the base reply (form only vs content)
    behaviour.py   gaming and collapse checks: question/reveal rates, form-only and `questions` share of a lift,
                   distinctness
    tutoring.py    judge-free tutoring metrics per reply: answer leak, false praise, echo, student voice, ...
    pressure.py    the pressure test: scripted pushes for the answer, leak rate after each (pure part)
    clean.py       the clean test set: test items no evaluation judge was fitted or calibrated on
"""
