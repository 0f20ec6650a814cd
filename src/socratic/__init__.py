"""socratic: fine-tune small language models into Socratic tutors, and measure how well they do it.

Run `socratic --help` for the command line; the stages live in modules named after them.
"""

import os as _os

# OpenMP threads that spin while waiting make torch 4-6x slower when the CPU is oversubscribed
# (measured: a DPO step 112 s -> 19 s on the shared 2-core dev machine); sleeping waits cost little
# on an idle machine. It must be set before torch loads, and every socratic module imports this first.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
