"""An Ollama Modelfile for an exported GGUF: FROM, TEMPLATE, stop tokens, SYSTEM, parameters.

The TEMPLATE is derived from the model's own chat template: `chat_format(tokenizer)` renders a
probe conversation with the tokenizer's template and recognises the layout (ChatML for SmolLM2,
Qwen and friends). An unrecognised layout gets no TEMPLATE line: Ollama then falls back to the
chat template stored inside the GGUF, which llama.cpp's converter copies there.

    ollama create socratic-tutor -f OUT/Modelfile && ollama run socratic-tutor
"""

from __future__ import annotations

from typing import Any

_PROBE = [{"role": "system", "content": "S1"}, {"role": "user", "content": "U1"},
          {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}]

CHATML = ("<|im_start|>system\nS1<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n"
          "<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n")

# Ollama's Go template for ChatML. Ollama puts the system messages (and SYSTEM below) into
# .System and hands the conversation over as .Messages.
OLLAMA_TEMPLATES = {
    "chatml": (
        '{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}'
        '{{ range .Messages }}{{ if eq .Role "user" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n'
        '<|im_start|>assistant\n{{ else if eq .Role "assistant" }}{{ .Content }}<|im_end|>\n{{ end }}{{ end }}'
    ),
}
STOPS = {"chatml": ["<|im_end|>", "<|im_start|>"]}


def detect_format(rendered_probe: str, bos: str | None = None) -> str | None:
    """'chatml' when the rendered probe conversation is ChatML (a leading BOS allowed), else None."""
    if rendered_probe == CHATML or (bos and rendered_probe == bos + CHATML):
        return "chatml"
    return None


def chat_format(tokenizer: Any) -> str | None:
    """The chat layout of a transformers tokenizer's own chat template, or None."""
    if not getattr(tokenizer, "chat_template", None):
        return None
    rendered = tokenizer.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=True)
    return detect_format(rendered, getattr(tokenizer, "bos_token", None))


def _quoted(text: str, what: str) -> str:
    if '"""' in text:
        raise ValueError(f'the {what} contains """, which a Modelfile cannot quote')
    return f'"""{text}"""'


def render_modelfile(gguf_path: str, *, system: str, fmt: str | None, extra_stops: list[str] = (),
                     parameters: dict[str, float | int] | None = None) -> str:
    """The Modelfile text. `gguf_path` is relative to the Modelfile's folder (Ollama resolves it so)."""
    lines = ["# Ollama Modelfile written by `socratic export`.",
             "# ollama create NAME -f Modelfile && ollama run NAME", "", f"FROM {gguf_path}", ""]
    if fmt in OLLAMA_TEMPLATES:
        lines += [f"# Chat template: {fmt}, derived from the model's tokenizer.",
                  f"TEMPLATE {_quoted(OLLAMA_TEMPLATES[fmt], 'template')}", ""]
    else:
        lines += ["# Chat template: taken by Ollama from the GGUF's tokenizer.chat_template.", ""]
    stops = list(dict.fromkeys([*STOPS.get(fmt or "", []), *extra_stops]))
    lines += [f'PARAMETER stop "{stop}"' for stop in stops]
    lines += [f"PARAMETER {name} {value}" for name, value in (parameters or {}).items()]
    lines += ["", f"SYSTEM {_quoted(system, 'system prompt')}", ""]
    return "\n".join(lines)
