"""containers/storage's file layout is written once (engine/storefiles.py): the image list's
storage order, the compat layer index and the answer cache's fingerprint all name their files
through it."""
import json

from podproxy.engine.cache import Storage
from podproxy.engine.compat import StoreIndex
from podproxy.engine.images import ImageEngine
from podproxy.engine.podman.runner import Completed
from podproxy.engine.storefiles import store_file


def test_store_file():
    assert store_file("/g", "overlay", "images") == "/g/overlay-images/images.json"
    assert store_file("/g", "vfs", "layers", "layers.lock") == "/g/vfs-layers/layers.lock"


def test_the_cache_fingerprints_nine_files():
    storage = Storage("/g", "/r", "overlay")
    assert storage.tokens == ["/g/overlay-images/images.lock", "/g/overlay-containers/containers.lock"]
    assert storage.stats == storage.tokens + [
        "/g/overlay-images/images.json", "/g/overlay-layers/layers.json", "/g/overlay-containers/containers.json",
        "/g/libpod/bolt_state.db", "/g/db.sql",
        "/r/overlay-layers/volatile-layers.json", "/r/overlay-containers/volatile-containers.json"]


class InfoOnly:
    """A runner that answers only ``podman info``'s graphRoot and driver, and counts the calls."""

    def __init__(self, root):
        self.root, self.calls = root, 0

    def run(self, args, **_):
        assert args[0] == "info"
        self.calls += 1
        return Completed(list(args), 0, ("%s\nvfs\n" % self.root).encode(), "")


def test_storage_order_and_layer_index_read_the_store_located_once(tmp_path):
    (tmp_path / "vfs-images").mkdir()
    (tmp_path / "vfs-layers").mkdir()
    (tmp_path / "vfs-images" / "images.json").write_text(json.dumps([{"id": "b"}, {"id": "a"}]))
    (tmp_path / "vfs-layers" / "layers.json").write_text(json.dumps([{"compressed-diff-digest": "sha256:1",
                                                                       "diff-digest": "sha256:2"}]))
    runner = InfoOnly(tmp_path)
    images = ImageEngine(runner)
    assert images.storage_order() == ["b", "a"]
    assert StoreIndex(images).layer_digests() == {"sha256:1", "sha256:2"}
    assert runner.calls == 1
