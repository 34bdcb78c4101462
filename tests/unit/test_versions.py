"""The versioned-behaviour table: one test per row, each checking the last
release without the behaviour and the first one with it (as found in
containers/podman's history), so a wrong or missing row fails."""
from __future__ import annotations

import pytest

from podproxy.engine.versions import BEHAVIOURS, Features, parse_version

# name: (last release without, first release with, podman commit)
EXPECTED = {
    "search_single_credential": ("4.4.4", "4.5.0", "82f2f8258c"),
    "list_filters_each_value": ("4.9.5", "5.0.0", "7c8c945496"),
    "build_no_file_ends": ("4.4.4", "4.5.0", "83a0e97ab8"),
    "build_faccessat": ("5.0.3", "5.1.0", "bd00c6fef9"),
    "build_platform_containerd": ("4.5.1", "4.6.0", "1c5ab9e7bf"),
    "build_platform_list": ("5.1.2", "5.2.0", "a3d5842746"),
    "build_compat_volumes": ("5.1.2", "5.2.0", "a8f4c12003"),
    "build_no_hosts": ("5.3.2", "5.4.0", "dc564257a2"),
    "dir_export_tar": ("4.5.1", "4.6.0", "d01ae436ee"),
    "push_compression_level": ("4.5.1", "4.6.0", "bb932cc840"),
    "push_manifest_digest": ("4.5.1", "4.6.0", "1f1525f2e1"),
    "inspect_error_prefix_gone": ("4.6.2", "4.7.0", "b6e636cbe2"),
    "pull_compat_mode": ("4.7.2", "4.8.0", "8b46e852ef"),
    "commit_stream": ("4.7.2", "4.8.0", "af0ef47f0c"),
    "commit_failure_prefix_gone": ("4.7.2", "4.8.0", "af0ef47f0c"),
    "image_resolve": ("4.9.5", "5.0.0", "b028f6aa75"),
    "commit_config_body": ("4.9.5", "5.0.0", "426db6fcc1"),
    "pull_retry": ("4.9.5", "5.0.0", "7ba23cd6fc"),
    "push_retry": ("4.9.5", "5.0.0", "c3c0c4ab96"),
    "list_arch_os": ("5.0.3", "5.1.0", "08a49389c8"),
    "single_not_found_body": ("5.1.2", "5.2.0", "6408a05927"),
    "prune_buildcache": ("5.2.5", "5.3.0", "901f621daa"),
    "remove_ignore": ("5.3.2", "5.4.0", "5181becfde"),
    "compat_runtimes_wasm_youki_ocijail": ("4.3.1", "4.4.0", "6fe64591d6"),
    "compat_history_sha256": ("4.5.1", "4.6.0", "edaf3b4d5e"),
    "compat_import_tag": ("4.5.1", "4.6.0", "ad8d0e57d7"),
    "compat_pull_status": ("4.5.1", "4.6.0", "63dfe842bb"),
    "compat_push_status": ("4.5.1", "4.6.0", "d545418945"),
    "compat_error_body_flushed": ("4.5.1", "4.6.0", "0ee19f08cf"),
    "compat_docker_bools": ("4.6.2", "4.7.0", "f33b01b731"),
    "compat_pull_cause_only": ("4.7.2", "4.8.0", "b9f2c4d171"),
    "compat_prune_dangling_filter": ("4.7.2", "4.8.0", "c13b8e3c9c"),
    "compat_runtime_crun_vm": ("4.9.5", "5.0.0", "7c8c945496"),
    "compat_info_docker25": ("4.9.5", "5.0.0", "3e6bfb6e99"),
    "compat_inspect_container_last": ("5.0.3", "5.1.0", "ffb8b2dc36"),
}


def test_every_row_is_tested():
    assert {b.name for b in BEHAVIOURS} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_row(name):
    before, since, commit = EXPECTED[name]
    row = next(b for b in BEHAVIOURS if b.name == name)
    assert row.source.startswith(commit)
    assert getattr(Features(before), name) is False
    assert getattr(Features(since), name) is True
    assert getattr(Features("4.3.1"), name) is False  # the release podproxy was built against
    assert getattr(Features("5.4.2"), name) is True  # Debian 13's, the other one tested


def test_versions_as_podman_prints_them():
    assert parse_version("5.4.2+ds1") == (5, 4, 2)
    assert parse_version("4.9.4-rhel") == (4, 9, 4)
    assert parse_version("5.1") == (5, 1, 0)
    with pytest.raises(ValueError):
        parse_version("dev")


def test_unknown_behaviour_is_an_error():
    with pytest.raises(AttributeError):
        _ = Features("5.4.2").no_such_behaviour
