"""The whole method in one command (`socratic run CONFIG.yaml`).

    config.py  the run config: one section per stage, composed from the stages' own settings
    stages.py  the stages of a run (generate, judge, pairs, train per training set; evaluate,
               agreement, report) and run()
    runner.py  skipping, resuming and forcing stages by their manifests
    preflight.py  what a run needs (GPU, model folders, keys, served models), checked before it starts

    from socratic import pipeline
    pipeline.run(pipeline.load("configs/quickstart.yaml"), dry_run=True)
"""


from __future__ import annotations

import importlib
from typing import Any

from socratic.pipeline.config import PipelineConfig, load
from socratic.store.run_folder import slug

__all__ = ["PipelineConfig", "Runner", "Stage", "build_stages", "load", "model_specs", "run", "slug"]

# The stages and the runner are imported on first use: the command line reads PipelineConfig at start
# (its options are built from the fields) and only `socratic run` needs the rest.
_LAZY = {"Runner": "runner", "Stage": "runner", "build_stages": "stages", "model_specs": "stages", "run": "stages"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"socratic.pipeline.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'socratic.pipeline' has no attribute {name!r}")
