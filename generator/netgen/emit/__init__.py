"""Stage 4, emit: planned artifacts become verified text.

:mod:`.templates` renders each artifact through jinja2 (``StrictUndefined``; overrides
sandboxed); :mod:`.verify` parses every document back and checks it against netgen's schema
for its kind; :mod:`.files` runs plan, render and verify for every cluster.
"""
