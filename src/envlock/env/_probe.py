# os.path on purpose, as site.py has it: abspath keeps a venv's python symlink, Path.resolve follows it out.
# ruff: noqa: PTH100, PTH113, PTH118, PTH120
"""Standalone interpreter probe: run by the *target* Python, prints its facts as JSON.

Standard library only and Python 3.8-compatible syntax; it never imports envlock, so it works in any
venv, with or without envlock or pip installed.

envlock runs it as ``python -I -S _probe.py``: ``-S`` keeps site.py from running, because site.py executes
the ``.pth`` files of site-packages, and those come from the wheels being inspected (docs/safety.md,
"Inspecting a venv runs none of its code"). Without site.py a venv's ``sys.prefix`` is its base's, so
``venv_prefix`` finds the venv the way site.py does; the answer is the same as with site.py.

``--site-dirs`` prints, instead, the JSON list of the interpreter's purelib, platlib and user
site-packages folders (``envlock doctor`` looks there for wrong-place installs).
"""

import json
import os
import platform
import site  # under -S importing site defines its functions but runs none of its .pth processing
import sys
import sysconfig


def _implementation_version() -> str:
    info = sys.implementation.version
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def venv_prefix() -> str:
    """``sys.prefix`` as site.py's ``venv()`` would set it: the folder above the executable's when a
    ``pyvenv.cfg`` sits next to the executable or one folder up, else ``sys.prefix``.

    Mirrors CPython's site.py (3.8 to 3.13), without calling it: its ``addsitepackages`` would execute
    ``.pth`` files. ``home`` and ``include-system-site-packages`` of pyvenv.cfg change only sys.path and
    the user site, which the probe does not report, so the file's presence is all that matters here.
    """
    executable = sys.executable
    if sys.platform == "darwin" and "__PYVENV_LAUNCHER__" in os.environ:
        executable = os.environ["__PYVENV_LAUNCHER__"]  # the venv's stub, as site.py uses it
    if not executable:
        return sys.prefix
    exe_dir = os.path.dirname(os.path.abspath(executable))
    site_prefix = os.path.dirname(exe_dir)
    for folder in (exe_dir, site_prefix):
        if os.path.isfile(os.path.join(folder, "pyvenv.cfg")):
            return site_prefix
    return sys.prefix


def _scheme_paths(prefix: str) -> "dict[str, str]":
    scheme = "nt" if os.name == "nt" else "posix_prefix"
    variables = {"base": prefix, "platbase": prefix, "installed_base": prefix}
    return sysconfig.get_paths(scheme=scheme, vars=variables)


def site_dirs() -> "list[str]":
    """purelib, platlib and the user site-packages folder, sorted and without repeats."""
    paths = _scheme_paths(venv_prefix())
    return sorted({paths["purelib"], paths["platlib"], site.getusersitepackages()})


def main() -> None:
    if sys.argv[1:] == ["--site-dirs"]:
        sys.stdout.write(json.dumps(site_dirs()))
        return
    prefix = venv_prefix()
    base_prefix = getattr(sys, "base_prefix", sys.prefix)
    markers = {
        "implementation_name": sys.implementation.name,
        "implementation_version": _implementation_version(),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }
    paths = _scheme_paths(prefix)
    debug = bool(sysconfig.get_config_var("Py_DEBUG"))
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    facts = {
        "executable": sys.executable,
        "prefix": prefix,
        "base_prefix": base_prefix,
        "is_venv": prefix != base_prefix,
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "markers": markers,
        "platform": sysconfig.get_platform(),
        "soabi": sysconfig.get_config_var("SOABI"),
        "debug": debug,
        "free_threaded": free_threaded,
        "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
        "stdlib_file": getattr(os, "__file__", None),
        "paths": {
            "purelib": paths["purelib"],
            "platlib": paths["platlib"],
            "scripts": paths["scripts"],
            "data": paths["data"],
            "headers": paths["include"],
        },
    }
    sys.stdout.write(json.dumps(facts, sort_keys=True))


if __name__ == "__main__":
    main()
