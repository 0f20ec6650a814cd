"""`socratic rate export EVAL -o SHEET/`: a blind rating sheet of an evaluation's replies.

    socratic rate export runs/quickstart/eval -o sheet/ --items 40 --seed 0

Writes into SHEET/:
- sheet.html   the form raters fill in a browser, offline: one file, no network, its script and style
               inline; per item the conversation and the replies in a seeded order, labelled A, B, C...;
               the 1-5 scale; progress kept in the browser (localStorage); a button downloads
               ratings-<rater>.csv
- sheet.csv    the same rows blank, for raters who prefer a spreadsheet (socratic.rate.ratings)
- key.json     which source wrote which letter (socratic.rate.sheet.RatingKey): for whoever runs the
               import, never for raters (docs/rating.md)
An existing key.json of another sheet is never overwritten: its ratings would lose their key.
"""

from __future__ import annotations

import json

import jinja2

from socratic.errors import SocraticError
from socratic.evaluate.result import EvalReply
from socratic.rate.config import ExportConfig
from socratic.rate.ratings import COLUMNS, write_blank
from socratic.rate.scale import SCALE
from socratic.rate.sheet import RatingKey, Sheet, blind_sheet
from socratic.store.jsonl import read_jsonl, write_text

SHEET_HTML, SHEET_CSV, KEY = "sheet.html", "sheet.csv", "key.json"


def render_html(sheet: Sheet) -> str:
    env = jinja2.Environment(loader=jinja2.PackageLoader("socratic.rate", "templates"),
                             autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    # What the script needs, as JSON inside <script type="application/json">: "<" escaped so no text in
    # a reply can close the script element.
    meta = {"sheet": sheet.id, "columns": list(COLUMNS),
            "cells": [[item.item, reply.letter] for item in sheet.items for reply in item.replies]}
    return env.get_template("sheet.html.j2").render(
        sheet=sheet, scale=SCALE, meta=json.dumps(meta).replace("<", "\\u003c"))


def run(config: ExportConfig) -> RatingKey:
    """Write the sheet, the blank CSV and the key (see the module docstring); returns the key."""
    replies_path = config.evaluation / "replies.jsonl"
    if not replies_path.exists():
        raise SocraticError(f"{replies_path}: not found; EVAL must be a `socratic evaluate -o` folder")
    replies = read_jsonl(replies_path, EvalReply)
    sheet, key = blind_sheet(replies, evaluation=str(config.evaluation.resolve()), items=config.items,
                             seed=config.seed, models=config.models, datasets=config.datasets)
    existing = RatingKey.read_if_exists(config.out / KEY)
    if existing is not None and existing.sheet != sheet.id:
        raise SocraticError(f"{config.out / KEY} is the key of another sheet ({existing.sheet}); ratings of "
                            "that sheet need it: export into another folder")
    key.write(config.out / KEY)  # first: a sheet must never be out without its key
    write_text(config.out / SHEET_HTML, render_html(sheet))
    write_blank(config.out / SHEET_CSV, key)
    return key
