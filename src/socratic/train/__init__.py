"""Step 5 of the method, train: DPO fine-tuning with TRL (`socratic train`).

    dpo.py      TrainConfig and run(): the model folder, TRL's DPOTrainer, checkpoints, resume
    sft.py      the optional warm-up before DPO: TRL's SFTTrainer on the pairs' chosen replies
    starting_model.py  loading the model a run starts from, its LoRA, bf16 or not: shared by both
    rows.py     pairs.jsonl -> TRL's conversational preference rows, fitted to the length budget
    monitor.py  metrics.jsonl, training-curve figure, warnings about a run that went wrong
    launch.py   `--processes N`: the same run data-parallel over N processes (accelerate / torchrun)
    artifacts.py  the files beside the model, typed and versioned: train_config.json, warnings.json,
                metrics.jsonl lines, and train_summary.json, written last (a folder without it is unfinished)
"""
