"""Blind ratings by people (`socratic rate`): the paper's human evaluation as a tool, steps 6 and 7 done by
people (the models' replies rated blind; the judges against the ratings). docs/rating.md is the protocol.

    scale.py      the 1-5 scale, written once (the sheet prints it, docs/rating.md quotes it)
    sheet.py      the blind items and the private key (pure: seeded sample, seeded letter order)
    export.py     `socratic rate export`: sheet.html (the offline form), sheet.csv, key.json
    templates/    sheet.html.j2, the form: inline style and script, progress in localStorage, CSV download
    ratings.py    the ratings CSV: written blank, read back and checked
    analysis.py   pure: per source, win rates, agreement between raters and with the judges
    result.py     the shape of ratings.json
    importing.py  `socratic rate import`: CSVs + key + the evaluation's judgments -> ratings.json
    table.py      the terminal tables
"""
