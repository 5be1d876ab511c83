"""The launchers' runtime (standard library only, imports nothing of envlock outside this package): the
``.envlock/`` layout (``layout``), hashing (``hashing``), the installed distributions (``dists``), the lock
header (``lock_header``) and the drift check with the entry-point guard (``drift``). Launchers carry one
file assembled from these modules (``guard.launchers.checker_source``)."""
