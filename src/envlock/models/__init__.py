"""The frozen values shared by the stages (standard library and ``envlock.validate`` only): artifacts,
selections and installed distributions (``artifacts``), and sources that are not an index (``source``)."""
