"""The pure parsers behind the engine's answers, without podman: Go's ``Time.Unix``, one
``podman images`` row as the API's ImageSummary, and scp's argument checks."""
import pytest

from podproxy.engine.imagedata import image_summary, unix_seconds
from podproxy.engine.podman import errors
from podproxy.engine.transfers import scp_refusal

ID = "a" * 64


@pytest.mark.parametrize("go_time, seconds", [
    ("2023-01-02T03:04:05Z", 1672628645),
    ("2023-01-02T03:04:05.123456789Z", 1672628645),   # nanoseconds are dropped, as Unix() does
    ("2023-01-02T05:04:05+02:00", 1672628645),        # an offset east of UTC
    ("2023-01-01T22:04:05.5-05:00", 1672628645),      # and west
    ("0001-01-01T00:00:00Z", -62135596800),           # Go's zero time
    ("1969-12-31T23:59:59Z", -1),
])
def test_unix_seconds(go_time, seconds):
    assert unix_seconds(go_time) == seconds


@pytest.mark.parametrize("text", ["", "2023-01-02", "2023-01-02 03:04:05Z", "2023-01-02T03:04:05", "x" * 30,
                                  "2023-01-02T03:04:05Z trailing"])
def test_unix_seconds_refuses_what_go_does_not_marshal(text):
    with pytest.raises(ValueError):
        unix_seconds(text)


ROW = {"Id": ID, "ParentId": "", "RepoTags": None, "RepoDigests": ["docker.io/x@sha256:" + "b" * 64],
       "Created": 1672628645, "CreatedAt": "2023-01-02T03:04:05Z", "Size": 10, "SharedSize": 0,
       "VirtualSize": 10, "Labels": None, "Containers": 0, "Names": ["localhost/x:1", "localhost/x:2"],
       "Digest": "sha256:" + "c" * 64, "History": ["localhost/x:1"]}


def test_image_summary_is_go_ordered_with_names_as_repo_tags():
    summary = image_summary(ROW)
    assert list(summary) == ["Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize",
                             "VirtualSize", "Labels", "Containers", "Names", "Digest", "History"]
    assert summary["RepoTags"] == ["localhost/x:1", "localhost/x:2"]
    assert "CreatedAt" not in summary and "ReadOnly" not in summary and "Dangling" not in summary


def test_image_summary_of_an_untagged_image():
    row = dict(ROW, Names=None, RepoDigests=None, Digest="", History=[], Dangling=True)
    summary = image_summary(row)
    assert summary["RepoTags"] is None            # Go's nil slice
    assert summary["RepoDigests"] is None         # present, as podman's row had it
    assert summary["Dangling"] is True
    assert not {"Names", "Digest", "History"} & set(summary)  # omitempty


def test_extended_image_summary_of_podman_5_1():
    summary = image_summary(ROW, {"IsManifestList": False, "Arch": "amd64", "Os": "linux"})
    assert list(summary) == ["Id", "ParentId", "RepoTags", "RepoDigests", "Created", "Size", "SharedSize",
                             "VirtualSize", "Labels", "Containers", "Arch", "Digest", "History",
                             "IsManifestList", "Names", "Os"]
    assert (summary["Arch"], summary["Os"], summary["IsManifestList"]) == ("amd64", "linux", False)
    listed = image_summary(ROW, {"IsManifestList": True})
    assert listed["IsManifestList"] is True and "Arch" not in listed and "Os" not in listed


@pytest.mark.parametrize("source, destination, refusal", [
    ("busybox", "", (500, "must specify a destination: invalid argument")),
    ("", "", (500, "no source image specified: invalid argument")),
    ("::", "::", (500, "a source image must be specified: invalid argument")),
    ("busybox", "root@localhost::", (400, "cannot use the user transfer function on the remote client: "
                                         "invalid argument")),
    ("conn::UPPER", "", (500, "invalid reference format: repository name must be lowercase")),
    ("conn::" + ID, "", (500, "invalid repository name (%s), cannot specify 64-byte hexadecimal strings" % ID)),
    ("busybox", "conn::", None),        # an ssh transfer: podman runs it
    ("conn::busybox", "", None),
])
def test_scp_refusal(source, destination, refusal):
    """(status, message) as the scp handler answers: a BAD_INPUT refusal is
    podman's 500, an UNSUPPORTED one its 400."""
    found = scp_refusal(source, destination)
    if refusal is None:
        assert found is None
        return
    status = {errors.BAD_INPUT: 500, errors.UNSUPPORTED: 400}[found.kind]
    assert (status, found.message) == refusal
