"""socratic: fine-tune small language models into Socratic tutors, and measure how well they do it.

Run `socratic --help` for the command line; the stages live in modules named after them.
"""

__version__ = "0.1.0"
