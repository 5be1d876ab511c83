"""Standalone interpreter probe: run by the *target* Python, prints its facts as JSON.

Standard library only and Python 3.8-compatible syntax; it never imports envlock, so it works in any
venv, with or without envlock or pip installed.
"""

import json
import os
import platform
import sys
import sysconfig


def _implementation_version() -> str:
    info = sys.implementation.version
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def main() -> None:
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
    scheme = "nt" if os.name == "nt" else "posix_prefix"
    variables = {"base": sys.prefix, "platbase": sys.prefix, "installed_base": sys.prefix}
    paths = sysconfig.get_paths(scheme=scheme, vars=variables)
    debug = bool(sysconfig.get_config_var("Py_DEBUG"))
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    facts = {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "is_venv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "cache_tag": sys.implementation.cache_tag,
        "markers": markers,
        "platform": sysconfig.get_platform(),
        "soabi": sysconfig.get_config_var("SOABI"),
        "debug": debug,
        "free_threaded": free_threaded,
        "pointer_bits": 64 if sys.maxsize > 2**32 else 32,
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
