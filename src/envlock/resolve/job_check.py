"""``envlock compile --check`` in words: the staleness judge's verdict on the lock, and why it is stale (a
setting asked for otherwise than the lock's, a target it lacks, or a changed input). Loaded by
``--check`` only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from envlock.env.interpreter import describe_target
from envlock.errors import StaleLockError
from envlock.inputs.config import display_path
from envlock.inputs.freshness import STALE, judge
from envlock.inputs.settings import differences
from envlock.lock.lockfile import lock_from_dict, lock_metadata, read_lock

if TYPE_CHECKING:
    from envlock.resolve.job_inputs import JobInputs


def check(job: JobInputs) -> str:
    """The line ``--check`` prints for a fresh lock (``job.out``; ``job.read``: its text and TOML, None
    when it could not be read so); a StaleLockError saying why it is not. The staleness judge
    (``inputs.freshness.judge``) decides, with this command line's settings (what the lock was compiled
    with, if it says, and what this check asks for, the lock's for what the command line leaves unset,
    both as a lock records them). A setting asked for otherwise than the lock's is named as that
    setting, a target as that target, anything else as a changed input."""
    out, shown_out, read, root = job.out, job.shown_out, job.read, job.root
    if not out.exists():
        raise StaleLockError(f"{shown_out} does not exist", hint="run: envlock compile")
    # the lock model from the TOML read once (read_lock's own message when that read failed)
    metadata = lock_metadata(lock_from_dict(read[1], source=str(out)) if read else read_lock(out))
    compiled, asked, targets = job.compiled, job.recorded, job.targets
    source = display_path(out.absolute().parent / asked.sources[0], root)
    changed = differences(compiled, asked) if compiled is not None else []
    if judge(metadata.fingerprint, job.resolved, asked.target, changed=changed).state != STALE:
        return f"{shown_out} is up to date with {source}"
    if changed:
        raise StaleLockError(
            f"{shown_out} was "
            + "; ".join(f"compiled with {then}, this check asks for {now}" for then, now in changed),
            hint="check without those options (a check takes the lock's settings for what it leaves out), "
            "or re-lock with them: envlock compile with the same options",
        )
    recorded = metadata.options.get("targets") if isinstance(metadata.options, dict) else None
    now = [describe_target(t) for t in targets]
    if isinstance(recorded, list) and recorded and now != recorded:
        missing = [t for t in now if t not in recorded]
        extra = [str(t) for t in recorded if t not in now]
        parts = [f"has no entry for {', '.join(missing)}"] if missing else []
        parts += [f"was also compiled for {', '.join(extra)}"] if extra else []
        raise StaleLockError(
            f"{shown_out} {' and '.join(parts) or 'lists its targets in another order'} "
            f"(compiled for {', '.join(str(t) for t in recorded)})",
            hint="run: envlock compile (or pass the --python/--python-version/--target it was compiled with)",
        )
    raise StaleLockError(f"{source} changed since {shown_out} was compiled — run: envlock compile")
