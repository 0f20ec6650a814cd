"""The `llm:<model spec>` judge: the paper's prompted judge on any model spec.

    judge.py  LLMJudge: the packaged prompt, re-asks with the validation error, concurrency
    parse.py  lenient parsing and strict validation of the model's answer into Scores
"""
