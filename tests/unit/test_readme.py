"""The README against the code: its configuration table names every setting
of ``settings.OPTIONS`` with the default ``Settings`` really has, and its two
commands (install-and-run, tests) work for root without sudo installed."""
import os
import re

import pytest

from podproxy.security import unixsock
from podproxy.settings import OPTIONS, Settings, parse_size

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")


def _readme() -> str:
    with open(README, encoding="utf-8") as f:
        return f.read()


def _section(title: str) -> str:
    text = _readme()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _table_defaults() -> dict[str, str]:
    """flag -> the default column, from the Configuration table's rows."""
    defaults = {}
    for line in _section("Configuration").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) != 3 or not cells[0].startswith("`--"):
            continue
        flags = re.findall(r"`(--[a-z][a-z-]*)", cells[0])
        values = [v.strip() for v in cells[1].split(",")] if len(flags) > 1 else [cells[1]]
        assert len(values) == len(flags), line
        for flag, value in zip(flags, values, strict=True):
            defaults[flag] = value.replace("`", "")
    return defaults


def _size(value: int) -> str:
    """A byte count as the table writes it: ``4G``, ``512M``; 0 stays ``0``."""
    for unit, shift in (("T", 40), ("G", 30), ("M", 20), ("K", 10)):
        if value and value % (1 << shift) == 0:
            return "%d%s" % (value >> shift, unit)
    return str(value)


def _shown(option, value) -> str:
    name = option.name
    if option.parse is parse_size:
        return _size(value)
    if name == "socket_mode" and value is None:
        return f"{unixsock.mode_for(Settings()):04o}"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None or value == []:
        return "none"
    if isinstance(value, list):
        return ", ".join(value)
    if isinstance(value, (int, float)):
        return f"{value:g}"
    return str(value)


@pytest.mark.parametrize("option", OPTIONS, ids=lambda o: o.cli)
def test_the_configuration_table_has_every_flag_with_its_default(option):
    defaults = _table_defaults()
    assert option.cli in defaults, f"{option.cli} is missing from the README's Configuration table"
    expected = _shown(option, getattr(Settings(), option.name))
    assert defaults[option.cli] == expected or defaults[option.cli].startswith(expected + " "), \
        f"{option.cli}: README says {defaults[option.cli]!r}, Settings has {expected!r}"


def test_the_table_names_no_flag_the_code_lacks():
    assert set(_table_defaults()) <= {o.cli for o in OPTIONS}


def _commands() -> list[str]:
    """The first two shell commands of the README: install-and-run, tests."""
    return re.findall(r"```sh\n(.*?)\n```", _readme(), re.DOTALL)[:2]


def test_the_two_commands_do_not_need_sudo_installed():
    """As root on a fresh Debian there is no sudo: neither command may start
    with it, and each uses sudo only through ``$SUDO``, which is empty there."""
    install, tests = _commands()
    assert "podproxy serve" in install and "pytest" in tests
    for command in (install, tests):
        assert "\n" not in command
        assert command.startswith("SUDO=$(command -v sudo || true); ")
        assert not re.search(r"(^|[;&|]\s*)sudo\b", command), command


def test_ci_runs_the_test_command():
    """.ci/run evals the first README line that runs pytest: it must be the
    test command itself."""
    first = next(line for line in _readme().splitlines() if re.match(r"^[^#].*pytest", line))
    assert first == _commands()[1]
