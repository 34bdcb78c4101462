"""Settings from PODPROXY_* and flags, from one table."""
import pytest

from podproxy.cli import build_parser, settings_from_args
from podproxy.settings import OPTIONS, Settings, parse_size


def test_env_then_flags():
    env = {"PODPROXY_BIND": "127.0.0.1:1, unix:/tmp/s.sock", "PODPROXY_PODMAN_OPTION": "--root=/a --runroot='/b c'",
           "PODPROXY_WORKERS": "3"}
    args = build_parser().parse_args(["serve", "--workers", "5", "--podman-option=--storage-driver=vfs"])
    s = settings_from_args(args, env)
    assert s.bind == ["127.0.0.1:1", "unix:/tmp/s.sock"]
    assert s.workers == 5
    assert s.podman_option == ["--storage-driver=vfs"]
    assert Settings.from_env(env).podman_option == ["--root=/a", "--runroot=/b c"]


def test_bad_env_value_names_the_variable():
    with pytest.raises(ValueError, match="PODPROXY_WORKERS"):
        Settings.from_env({"PODPROXY_WORKERS": "many"})


def test_every_option_has_a_flag_and_help():
    text = build_parser()._subparsers._group_actions[0].choices["serve"].format_help()
    for opt in OPTIONS:
        assert opt.cli in text and opt.env in text


def test_parse_size():
    assert parse_size("4G") == 4 << 30 and parse_size("512M") == 512 << 20 and parse_size("100") == 100
    with pytest.raises(ValueError):
        parse_size("lots")


def test_ui_flag_and_variable():
    assert Settings().ui is True
    assert settings_from_args(build_parser().parse_args(["serve", "--ui", "off"]), {}).ui is False
    assert settings_from_args(build_parser().parse_args(["serve"]), {"PODPROXY_UI": "off"}).ui is False
    assert settings_from_args(build_parser().parse_args(["serve", "--ui", "on"]), {"PODPROXY_UI": "off"}).ui is True


def test_one_name_for_the_podman_options():
    """--podman-option fills Settings.podman_option; no second spelling (podman_options) beside it."""
    s = Settings(podman_option=["--root=/a"])
    assert s.podman_option == ["--root=/a"]
    assert not hasattr(s, "podman_options")
