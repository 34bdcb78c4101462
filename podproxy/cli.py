"""``podproxy``: the command line.

``podproxy serve`` reads ``PODPROXY_*`` variables, then its flags (flags
win), and serves the API under gunicorn. Flags and variables come from one
table, ``settings.OPTIONS``.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__
from .security import unixsock
from .security.auth import exposure_problem
from .settings import OPTIONS, Settings

DESCRIPTION = """\
podproxy serves podman's images REST API (libpod and Docker-compatible) by running the
real podman binary. Point podman's remote CLI, podman-py or curl at it:

  podproxy serve --bind 127.0.0.1:8080
  podman --url tcp://127.0.0.1:8080 image ls
"""

EPILOG = """\
Every flag of 'serve' can also be set with a PODPROXY_* environment variable
named after it (--podman-timeout -> PODPROXY_PODMAN_TIMEOUT); lists are
separated by commas or spaces. Flags win over variables.

Example with an isolated image store:
  podproxy serve --bind unix:/run/podproxy.sock \\
      --podman-option=--root=/srv/podman/root --podman-option=--runroot=/run/podman-proxy
"""


def _argument_type(parse):
    """The option's parser, its ValueError shown to the user as written
    (argparse would say only "invalid parse_x value")."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = getattr(parse, "__name__", "value")
    return convert


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="podproxy", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version="podproxy " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="serve the API under gunicorn", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for opt in OPTIONS:
        help_text = "%s [env %s]" % (opt.help, opt.env)
        if opt.flag:
            serve.add_argument(opt.cli, dest=opt.name, action="store_const", const=True, default=None, help=help_text)
        elif opt.repeat:
            serve.add_argument(opt.cli, dest=opt.name, action="append", type=_argument_type(opt.parse), default=None,
                               metavar=opt.metavar, help=help_text)
        else:
            serve.add_argument(opt.cli, dest=opt.name, type=_argument_type(opt.parse), default=None,
                               metavar=opt.metavar, help=help_text)
    return parser


def settings_from_args(args: argparse.Namespace, environ=None) -> Settings:
    overrides = {opt.name: getattr(args, opt.name, None) for opt in OPTIONS}
    return Settings.from_env(environ, **overrides)


def _security_config_problem(settings: Settings) -> str | None:
    """A bad token file or policy stops ``serve`` before it listens
    (not at the first request, in a worker)."""
    from .security.guard import Guard

    try:
        Guard.from_settings(settings)
    except OSError as e:
        return ("cannot read the token file %s (%s): create it with lines of NAME TOKEN [POLICY] "
                "(e.g. 'admin' and the output of 'openssl rand -hex 32'), readable by podproxy only"
                % (settings.token_file, e.strerror or e))
    except ValueError as e:
        return str(e)
    return None


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "serve":
        parser.print_help()
        return 2
    try:
        settings = settings_from_args(args)
    except (ValueError, TypeError) as e:
        parser.error(str(e))
    problem = exposure_problem(settings) or unixsock.problem(settings) or _security_config_problem(settings)
    if problem:
        parser.exit(2, "podproxy serve: %s\n" % problem)
    from .serving.server import serve

    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
