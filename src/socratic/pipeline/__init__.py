"""The whole method in one command (`socratic run CONFIG.yaml`).

    config.py  the run config: one section per stage, composed from the stages' own settings
    stages.py  the stages of a run (generate, judge, pairs, train per training set; evaluate,
               agreement, report) and run()
    runner.py  skipping, resuming and forcing stages by their manifests
    preflight.py  what a run needs (GPU, model folders, keys, served models), checked before it starts

    from socratic import pipeline
    pipeline.run(pipeline.load("configs/quickstart.yaml"), dry_run=True)
"""

from socratic.pipeline.config import PipelineConfig, load
from socratic.pipeline.runner import Runner, Stage
from socratic.pipeline.stages import build_stages, model_specs, run
from socratic.run_folder import slug

__all__ = ["PipelineConfig", "Runner", "Stage", "build_stages", "load", "model_specs", "run", "slug"]
