"""The CLI layer's subcommands, one module each: parse options into a frozen settings object, call the
library modules, print, and map results to exit codes. Only this package and ``cli.py`` print."""
