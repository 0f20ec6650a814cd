"""The whole method in one command (`socratic run CONFIG.yaml`).

    config.py  the run config (one section per stage) and the stages of a run
    runner.py  skipping, resuming and forcing stages by their manifests
"""
