"""socratic: fine-tune small language models into Socratic tutors, and measure how well they do it.

The method, in the steps docs/design.md numbers (`socratic run` chains 1-7; each is a command too):

    1 Generate         preference/generate.py  k candidate tutor replies per training conversation
    2 Judge            judge/                  each candidate scored on the four criteria
    3 Summarise        scores.py               the four criteria as one number in [0, 1]
    4 Pair             preference/pairs.py     best candidate = chosen, worst = rejected
    5 Train            train/                  DPO with TRL (LoRA by default)
    6 Evaluate         evaluate/               base vs tuned on held-out test sets
    7 Check the judge  agreement/              judges vs human labels
    8 Ship             serve/, export/         chat, an OpenAI-compatible server, exports

rate/ is steps 6 and 7 done by people: blind ratings of the models' replies, and the judges against them.

Run `socratic --help` for the command line.
"""

import os as _os

# OpenMP threads that spin while waiting make torch 4-6x slower when the CPU is oversubscribed
# (measured: a DPO step 112 s -> 19 s on the shared 2-core dev machine); sleeping waits cost little
# on an idle machine. It must be set before torch loads, and every socratic module imports this first.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
