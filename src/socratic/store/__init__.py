"""Files on disk: how socratic reads, writes and lays out what it keeps.

    jsonl.py        JSON Lines I/O with file:line:field errors, atomic writes, fsynced appends
    artifact.py     the base of every typed, versioned file a run writes
    run_folder.py   the layout of a `socratic run` folder and its progress records (manifests, timings)
    cache.py        the SQLite cache keyed by a content hash
    paths.py        where socratic keeps things (SOCRATIC_HOME), and the checks of an output path a user names

Import the module you need (`from socratic.store.jsonl import read_jsonl`); this file imports nothing, so
the package sits low in the import graph and no module above it is pulled in by importing one of these.
"""
