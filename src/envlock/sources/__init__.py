"""Packages that come from a source, not an index: local directories (editable or not), local archives
and git repositories. What such a source is (``model``), its identity on disk (``tree``: what makes a
directory's contents change) and git, run safely (``git``)."""
