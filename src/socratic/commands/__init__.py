"""The CLI's commands, each a typer command that socratic.cli registers: stages.py (one per stage, its options
built from the stage's Config by socratic.config.options), data.py (`socratic data ...`) and setup.py."""
