"""``POST /libpod/build`` and ``podman --url ... build``: podproxy and
podman's own service build the same context (FROM/COPY/LABEL/ENV: RUN
cannot run on these machines) with the same streamed output, IDs aside."""
from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

import pytest
from helpers import PODMAN, context_tar, podman_features, start_podproxy

from .test_remote_cli import remote

V = "/v4.3.1/libpod"
CONTAINERFILE = b"""FROM localhost/podproxy/base:1
ARG GREETING=hello
COPY hello.txt /hello.txt
LABEL built.by=podproxy-tests
ENV GREETING=$GREETING
"""
SECOND = b"FROM localhost/podproxy/base:1 AS first\nLABEL stage=first\nFROM first AS second\nLABEL stage=second\n"



CONTEXT = context_tar({"Containerfile": CONTAINERFILE, "hello.txt": b"hi\n", "Other.cf": SECOND})


def normalize(reply):
    """IDs (64 and 11-12 hex) replaced, and podman's temp context path made
    relative to the context, as podproxy shows it (podproxy never shows
    its own server paths: it names files as the client sent them).
    podman's handler forwards the build's output and its progress from two
    channels through one ``select``, so their relative order varies from
    run to run in podman itself: the lines are compared as a sorted list,
    and the last line (the image ID or the error) exactly."""
    body = re.sub(rb"[0-9a-f]{64}|\b[0-9a-f]{11,12}\b", b"<ID>", reply.body)
    body = re.sub(rb"/[^ \"\\]*/build/", b"", body)
    body = re.sub(rb"/[^ \"\\]*/build\b", b".", body)
    lines = body.splitlines()
    return reply.status, reply.headers.get("content-type"), sorted(lines), lines[-1:]


BUILD_CASES = [
    ("?t=localhost/built/a:1&nocache=1", "application/x-tar", CONTEXT),
    ("?t=localhost/built/a:2&t=localhost/built/a:3&layers=true&nocache=1", None, CONTEXT),
    ("?t=localhost/built/q:1&q=1", "application/x-tar", CONTEXT),
    ("?t=localhost/built/args:1&buildargs=" + quote('{"GREETING":"hey"}'), "application/x-tar", CONTEXT),
    ("?labels=" + quote('{"extra":"label"}'), "application/x-tar", CONTEXT),
    ("?labels=" + quote('["extra=list"]'), "application/x-tar", CONTEXT),
    ("?dockerfile=Other.cf&target=first", "application/x-tar", CONTEXT),
    ("?dockerfile=" + quote('["Other.cf"]'), "application/x-tar", CONTEXT),
    ("?platform=linux/amd64&t=localhost/built/p:1", "application/x-tar", CONTEXT),
    ("?t=localhost/built/gz:1", "application/x-tar", context_tar({"Dockerfile": CONTAINERFILE,
                                                                  "hello.txt": b"x"}, "w:gz")),
    ("?dockerfile=nope", "application/x-tar", CONTEXT),
    ("?q=maybe", "application/x-tar", CONTEXT),
    ("?buildargs=notjson", "application/x-tar", CONTEXT),
    ("?labels=notjson", "application/x-tar", CONTEXT),
    ("", "text/plain", CONTEXT),
    ("", "application/x-tar", b"not a tar at all"),
    ("", "application/x-tar", context_tar({"hello.txt": b"x"})),  # no Containerfile
    ("?t=UPPER", "application/x-tar", CONTEXT),
    ("", "application/x-tar", context_tar({"Containerfile": b"FROM localhost/podproxy/nope:1\n"})),
    ("", "application/x-tar", context_tar({"Containerfile": b"FROM localhost/podproxy/base:1\nCOPY nope /\n"})),
    # platform: checked by buildah's parse.Platform first (400), a split on "/" up to podman 4.5,
    # containerd's platforms.Parse from 4.6 (versions.build_platform_containerd)
    ("?platform=bogus", "application/x-tar", CONTEXT),
    ("?platform=amd64&t=localhost/built/p:2", "application/x-tar", CONTEXT),
    ("?platform=linux/amd64&platform=bogus", "application/x-tar", CONTEXT),
    ("?platform=" + quote("w(1)/a/b/c"), "application/x-tar", CONTEXT),
    ("?platform=/linux/amd64/", "application/x-tar", CONTEXT),
    ("?platform=&t=localhost/built/p:3", "application/x-tar", CONTEXT),
    # podman 5.2's compatvolumes and 5.4's nohosts: decoded (a bad bool is a 400) where podman has them
    ("?compatvolumes=maybe", "application/x-tar", CONTEXT),
    ("?nohosts=maybe", "application/x-tar", CONTEXT),
    ("?compatvolumes=1&nohosts=1&t=localhost/built/cv:1", "application/x-tar", CONTEXT),
]
# podman 5.2+: one platform value is a comma-separated list (versions.build_platform_list);
# podman 4.3.1 takes it for one odd platform, which its CLI cannot be given
LIST_CASES = ["?platform=linux/amd64,bogus", "?platform=" + quote("linux/amd64,w(1)/a/b/c"),
              "?platform=linux/amd64,linux/amd64&t=localhost/built/pl:1", "?platform=a,b&platform=linux/amd64"]


@pytest.mark.parametrize("query,ctype,body", BUILD_CASES, ids=["case%d" % n for n in range(len(BUILD_CASES))])
def test_build(pair, query, ctype, body):
    headers = {"Content-Type": ctype} if ctype else {}
    ref, proxy = pair.both("POST", V + "/build" + query, body=body, headers=headers)
    assert normalize(proxy) == normalize(ref)


@pytest.mark.skipif(not podman_features().build_platform_list, reason="podman before 5.2: no platform lists")
@pytest.mark.parametrize("query", LIST_CASES)
def test_build_platform_list(pair, query):
    ref, proxy = pair.both("POST", V + "/build" + query, body=CONTEXT, headers={"Content-Type": "application/x-tar"})
    assert normalize(proxy) == normalize(ref)


def test_failed_build_lines(pair):
    """A failed build ends with the same JSON line as podman's, key for key
    (issue 13 said podproxy's had an extra "error" key: podman 4.3.1 and
    5.4.2 both send errorDetail and error), server paths aside."""
    context = context_tar({"Containerfile": b"FROM localhost/podproxy/base:1\nCOPY nope /\n"})
    ref, proxy = pair.both("POST", V + "/build", body=context, headers={"Content-Type": "application/x-tar"})
    last = [json.loads(r.body.splitlines()[-1]) for r in (ref, proxy)]
    assert [list(line) for line in last] == [["errorDetail", "error"]] * 2
    assert normalize(proxy)[3] == normalize(ref)[3]


def test_build_flags_reach_podman(pair, tmp_path):
    """compatvolumes and nohosts change only what RUN sees (RUN cannot run
    here): podman's argv shows that podproxy passes them where the running
    podman decodes them, and ignores them before (podman 4.3.1's schema
    decoder ignores keys it does not know). A recording wrapper runs the
    real podman."""
    log = tmp_path / "argv.log"
    wrapper = tmp_path / "podman"
    wrapper.write_text('#!/bin/sh\nprintf "%%s\\n" "$*" >> %s\nexec %s "$@"\n' % (log, PODMAN))
    wrapper.chmod(0o755)
    proxy = start_podproxy(pair.store, "--podman=%s" % wrapper)
    try:
        reply = proxy.http.request("POST", V + "/build?compatvolumes=true&nohosts=1&platform=linux/amd64",
                                   body=CONTEXT, headers={"Content-Type": "application/x-tar"})
    finally:
        proxy.stop()
    build = [line.split() for line in log.read_text().splitlines() if " build " in " %s " % line]
    f = podman_features()
    expected = ["--platform=linux/amd64"] + ["--compat-volumes=true"] * f.build_compat_volumes + \
        ["--no-hosts"] * f.build_no_hosts
    assert reply.status == 200 and len(build) == 1
    assert [a for a in build[0] if a.startswith(("--platform", "--compat-volumes", "--no-hosts"))] == expected


def test_build_result(pair):
    """The image podproxy built has what the Containerfile says."""
    reply = pair.proxy.http.request("POST", V + "/build?t=localhost/built/check:1&buildargs=" +
                                    quote('{"GREETING":"checked"}'), body=CONTEXT)
    image_id = json.loads(reply.body.splitlines()[-1])["stream"].strip()
    data = json.loads(pair.store.out("image", "inspect", image_id))[0]
    assert data["Labels"]["built.by"] == "podproxy-tests"
    assert "GREETING=checked" in data["Config"]["Env"]
    assert "localhost/built/check:1" in data["RepoTags"]


def test_context_escape_refused(pair):
    """A Containerfile outside the context (podman's service would read
    any server path) and tar members leaving the context are refused."""
    reply = pair.proxy.http.request("POST", V + "/build?dockerfile=../../../../etc/passwd", body=CONTEXT)
    assert reply.status == 400 and b"inside the build context" in reply.body
    import tempfile
    import uuid

    name = "escaped-%s" % uuid.uuid4().hex  # the server's temp dir is tempfile's: ../../ of its context
    outside = [os.path.join(tempfile.gettempdir(), name), os.path.join(os.path.dirname(tempfile.gettempdir()), name)]
    for member in ("../../" + name, "../../../" + name):
        evil = context_tar({"Containerfile": CONTAINERFILE, "hello.txt": b"x", member: b"x"})
        reply = pair.proxy.http.request("POST", V + "/build", body=evil)
        assert reply.status == 500 and b"outside the build context" in reply.body, reply.body
        assert b"podproxy-" not in reply.body  # no server path
        assert not any(os.path.exists(path) for path in outside), "written outside the context"


@pytest.mark.parametrize("args", [
    ("build", "--layers=false", "-t", "localhost/built/cli:1", "{ctx}"),
    ("build", "--no-cache", "-t", "localhost/built/cli:2", "--label", "x=y", "--build-arg", "GREETING=yo", "{ctx}"),
    ("build", "-q", "--layers=false", "{ctx}"),
    ("build", "--layers=false", "-f", "{ctx}/Other.cf", "--target", "first", "{ctx}"),
    ("build", "--layers=false", "-f", "{ctx}/missing", "{ctx}"),
    ("build", "--layers=false", "-t", "UPPER", "{ctx}"),
])
def test_remote_cli_build(pair, tmp_path, args):
    for name, data in (("Containerfile", CONTAINERFILE), ("hello.txt", b"hi\n"), ("Other.cf", SECOND)):
        (tmp_path / name).write_bytes(data)
    args = [a.format(ctx=tmp_path) for a in args]
    results = []
    for server in (pair.ref, pair.proxy):
        code, out, err = remote(server.url, *args)
        out = re.sub(r"[0-9a-f]{64}|\b[0-9a-f]{11,12}\b", "<ID>", out)
        results.append((code, sorted(out.splitlines()), out.splitlines()[-1:],  # order varies (see normalize)
                        re.sub(r"/[^ \"]*/build\b", ".", re.sub(r"/[^ \"]*/build/", "",
                               re.sub(r"[0-9a-f]{64}|\b[0-9a-f]{11,12}\b", "<ID>", err)))))
    assert results[1] == results[0]


def test_build_leaves_no_temp_dirs(pair):
    """The unpacked context goes on success, on failure and on bad input."""
    import glob
    import os
    import tempfile

    def dirs():
        return set(glob.glob(os.path.join(tempfile.gettempdir(), "podproxy-*-build-*")))

    before = dirs()
    for query, body in (("?t=localhost/built/tmp:1", CONTEXT), ("?buildargs=bad", CONTEXT), ("", b"junk"),
                        ("", context_tar({"Containerfile": b"FROM localhost/podproxy/nope:1\n"}))):
        assert pair.proxy.http.request("POST", V + "/build" + query, body=body).status in (200, 400, 500)
    import time

    deadline = time.monotonic() + 15  # the server cleans up when it closes the body, just after the last byte
    while dirs() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not dirs() - before
