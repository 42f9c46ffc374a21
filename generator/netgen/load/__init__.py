"""Stage 1, load: from the user's files to the model.

:mod:`.reader` reads YAML safely (bounded, located diagnostics) on top of :mod:`.yamldata`
(data from libyaml's parser events); :mod:`.structure` checks the inventory against its
schema; :mod:`.builder` makes the typed model (:mod:`netgen.model`); :mod:`.facts` reads the
hosts' facts files and :mod:`.facts_match` matches them to NICs. :mod:`.positions` turns a
diagnostic's origin into a line and column, only when something is reported.
"""
