"""The web page in Debian's chromium (headless, selenium), against a live
podproxy on an isolated store with real images. What the page shows is
checked against podman's own answers on the same store; what it does is
checked in the store afterwards."""
from __future__ import annotations

import json
import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .conftest import ADMIN, BASE, CHILD, OTHER, READER


def listed(store, *filters) -> list:
    args = ["images", "--format", "json"] + ["--filter=" + f for f in filters]
    return json.loads(store.out(*args) or "[]")


def click_sort(page, key):
    page.one('#images th[data-key="%s"] button' % key).click()


def shown_ids(page):
    return [r[0] for r in page.rows()]


def type_into(page, sel, text, submit=True):
    box = page.one(sel)
    box.clear()
    box.send_keys(text + (Keys.ENTER if submit else ""))


def test_list_shows_podmans_images_and_sorts_by_each_column(page, ui_store):
    page.open()
    expected = {i["Id"]: i for i in listed(ui_store)}
    rows = page.list_loaded(len(expected))
    assert {r[0] for r in rows} == set(expected)
    for image_id, names, size, containers in rows:
        assert names == (expected[image_id].get("Names") or ["<none>"])
        assert size == expected[image_id]["Size"] and containers == expected[image_id]["Containers"]
    # created: relative, exact time on hover
    created = page.css("#images tbody time")[0]
    assert created.text.endswith("ago") or created.text == "just now"
    assert "T" in created.get_attribute("title") and created.get_attribute("datetime")
    # dangling marked
    dangling = page.css('#images tr[data-id="%s"]' % ui_store.dangling_id)[0]
    assert "dangling" in dangling.get_attribute("class") and dangling.find_element(By.CSS_SELECTOR, ".badge").text == "dangling"

    click_sort(page, "size")
    sizes = [r[2] for r in page.rows()]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) > 1
    click_sort(page, "size")
    assert [r[2] for r in page.rows()] == sorted(sizes)
    assert page.one('#images th[data-key="size"]').get_attribute("aria-sort") == "ascending"
    click_sort(page, "name")
    first_names = [(r[1][0] if r[1] else "<none>").lower() for r in page.rows()]
    assert first_names == sorted(first_names)
    click_sort(page, "id")
    assert shown_ids(page) == sorted(expected)
    click_sort(page, "id")
    assert shown_ids(page) == sorted(expected, reverse=True)
    assert not page.console_errors()[1:]  # the first is the 401 of the page load before the token


def test_filter_box_maps_to_podmans_filters(page, ui_store):
    page.open()
    page.list_loaded()
    for text, filters in [("label=tier=web", ["label=tier=web"]), ("base", ["reference=base"]),
                          ("localhost/demo/*", ["reference=localhost/demo/*"]),
                          ("dangling=true", ["dangling=true"]), ("label=app=demo", ["label=app=demo"])]:
        want = sorted(i["Id"] for i in listed(ui_store, *filters))
        assert want, text
        type_into(page, "#filter", text)
        page.wait(lambda: sorted(shown_ids(page)) == want, "filter %s -> %s" % (text, want))  # noqa: B023 (called at once)
    type_into(page, "#filter", "no-such-image-anywhere")
    page.wait(lambda: page.visible("#list-empty") and not page.rows(), "the empty list")
    assert page.text("#list-empty") == "No image matches this filter."


def test_image_page_shows_inspect_history_tree_and_changes(page, ui_store):
    page.open()
    page.list_loaded()
    page.one('#images tr[data-id="%s"] a.name' % ui_store.child_id).click()
    page.wait(lambda: len(page.css("svg.tree")) == 2 and page.css("table.history"), "the image page")
    assert page.text("#image-title").startswith(CHILD)
    headings = [h.text for h in page.css("#image-body h2")]
    assert headings == ["Overview", "Layers", "Config", "What requires this image", "Environment", "Labels",
                        "History", "Changes"]
    inspect = json.loads(ui_store.out("image", "inspect", ui_store.child_id))[0]
    body = page.text("#image-body")
    assert inspect["Id"] in body and "MODE" in body and "demo" in body and "tier" in body
    assert '["/bin/busybox","httpd","-f"]' in body
    history = json.loads(ui_store.out("history", "--format", "json", ui_store.child_id))
    assert len(page.css("table.history tbody tr")) == len(history)
    # the tree as a picture: one box per layer of podman's tree, this image's top layer marked
    tree = ui_store.out("image", "tree", ui_store.child_id)
    layers = [ln for ln in tree.splitlines() if "ID: " in ln and "Size:" in ln]
    boxes = page.css("svg.tree.layers g.node")
    assert len(boxes) == len(layers) == 2
    assert len(page.css("svg.tree.layers g.node.mine")) == 1 and BASE in boxes[0].text
    changes = json.loads(ui_store.out("image", "diff", "--format", "json", ui_store.child_id))
    shown = [c.text for c in page.css("table.changes tbody td:last-child")]
    assert "/srv/page.html" in shown and len(shown) == sum(len(v) for v in changes.values())


def test_pull_from_registry_with_progress_to_100(page, ui_store, registry):
    ref = "%s/demo/pulled:1" % registry.address
    image_id = ui_store.make_image("localhost/demo/to-push:1", marker="pulled through the page")
    ui_store.out("push", "--tls-verify=false", image_id, ref)
    ui_store.out("rmi", "localhost/demo/to-push:1")
    assert image_id not in ui_store.image_ids()
    page.open()
    page.list_loaded()
    page.one("#pull-open").click()
    type_into(page, "#pull-ref", ref, submit=False)
    page.one("#pull-tls").click()  # a plain-http registry
    seen = []
    page.one("#pull-go").click()
    page.wait(lambda: seen.append(page.one("#pull-progress").get_attribute("value")) or
              page.text("#pull-percent").startswith("100%"), "pull progress 100%", timeout=120)
    assert page.text("#pull-percent") == "100% \u00b7 pulled " + image_id[:12]
    assert "Copying blob" in page.text("#pull-log") and "Writing manifest" in page.text("#pull-log")
    assert any(0 < float(v) < 100 for v in seen), seen  # it moved before the end
    assert image_id in ui_store.image_ids()
    page.wait(lambda: image_id in shown_ids(page), "the pulled image in the list")


def test_pull_error_in_plain_words(page, registry):
    page.open()
    page.list_loaded()
    page.one("#pull-open").click()
    type_into(page, "#pull-ref", "%s/demo/never-pushed:1" % registry.address, submit=False)
    page.one("#pull-tls").click()
    page.one("#pull-go").click()
    page.wait(lambda: page.text("#pull-percent") == "failed", "the pull to fail", timeout=120)
    assert page.text("#banner").startswith("Pull failed: ")
    assert "never-pushed" in page.text("#banner") and "Traceback" not in page.text("#banner")


def open_image(page, image_id, token=ADMIN):
    page.open(token=token, hash_="#/image/" + image_id)
    page.wait(lambda: page.visible("#image-actions") and page.text("#image-title"), "image page")


def test_tag_and_untag(page, ui_store):
    image_id = ui_store.make_image("localhost/demo/tagme:1", marker="tag me")
    open_image(page, image_id)
    type_into(page, "#tag-ref", "localhost/demo/tagged:7")
    page.wait(lambda: "localhost/demo/tagged:7" in page.text("#image-title"), "the new name")
    assert page.text("#action-result") == "Tagged localhost/demo/tagged:7."
    names = json.loads(ui_store.out("image", "inspect", image_id))[0]["RepoTags"]
    assert "localhost/demo/tagged:7" in names
    page.one('button.untag[data-tag="localhost/demo/tagme:1"]').click()
    page.wait(lambda: "localhost/demo/tagme:1" not in page.text("#image-title"), "the name gone")
    assert json.loads(ui_store.out("image", "inspect", image_id))[0]["RepoTags"] == ["localhost/demo/tagged:7"]


def test_remove_unused_image(page, ui_store):
    image_id = ui_store.make_image("localhost/demo/remove-me:1", marker="remove me")
    open_image(page, image_id)
    page.one("#remove-go").click()
    page.wait(lambda: page.visible("#list-view"), "back to the list")
    assert page.text("#banner") == "Removed image %s (localhost/demo/remove-me:1)." % image_id[:12]
    assert image_id not in ui_store.image_ids()
    page.list_loaded()
    assert image_id not in shown_ids(page)


def test_remove_in_use_shows_409_then_force(page, ui_store):
    image_id = ui_store.make_image("localhost/demo/in-use:1", marker="in use")
    ui_store.create_container(image_id, "ui-test-user")
    open_image(page, image_id)
    page.one("#remove-go").click()
    page.wait(lambda: page.text("#action-result"), "the refusal")
    text = page.text("#action-result")
    container = ui_store.out("ps", "-a", "--filter", "name=ui-test-user", "--format", "{{.ID}}").strip()
    assert text.startswith("This image is in use: image used by %s" % container[:12]), text
    assert "image is in use by a container" in text and "tick \u201cforce\u201d" in text
    assert image_id in ui_store.image_ids()
    page.one("#remove-force").click()
    page.one("#remove-go").click()
    page.wait(lambda: page.visible("#list-view"), "back to the list")
    assert image_id not in ui_store.image_ids()
    assert "ui-test-user" not in ui_store.out("ps", "-a", "--format", "{{.Names}}")


def test_export_download_and_load_back(page, ui_store, downloads):
    image_id = ui_store.make_image("localhost/demo/roundtrip:1", marker="round trip")
    open_image(page, image_id)
    select = page.one("#export-format")
    select.find_element(By.CSS_SELECTOR, 'option[value="docker-archive"]').click()
    page.one("#export-go").click()
    path = os.path.join(downloads, "localhost_demo_roundtrip_1.docker-archive.tar")
    page.wait(lambda: os.path.exists(path) and page.text("#export-status").startswith("saved"), "the download")
    size = os.path.getsize(path)
    assert size > 1 << 20
    ui_store.out("rmi", image_id)
    assert image_id not in ui_store.image_ids()

    page.open()
    page.list_loaded()
    page.one("#upload-open").click()
    page.css("#upload-file")[0].send_keys(path)
    page.wait(lambda: page.text("#upload-result"), "the load", timeout=120)
    assert page.text("#upload-result") == "Loaded localhost/demo/roundtrip:1"
    assert page.text("#upload-percent") == "done"
    assert image_id in ui_store.image_ids()  # the same image ID
    page.wait(lambda: image_id in shown_ids(page), "the loaded image in the list")
    os.unlink(path)


def test_import_rootfs_dropped_on_the_page(page, ui_store):
    tar = ui_store.rootfs_tar({"imported": b"through the page"})
    page.open()
    page.list_loaded()
    page.one("#upload-open").click()
    page.one('input[name=upload-kind][value="import"]').click()
    type_into(page, "#import-ref", "localhost/demo/imported:3", submit=False)
    # a file dropped on the drop zone: selenium cannot drag from the desktop,
    # so the test picks the file with an input of its own and drops it
    page.d.execute_script("const i = document.createElement('input'); i.type = 'file'; i.id = 'test-pick';"
                          "document.body.append(i);")
    page.css("#test-pick")[0].send_keys(tar)
    page.d.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(document.querySelector('#test-pick').files[0]);
        document.querySelector('#drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true,
                                                                            cancelable: true}));""")
    page.wait(lambda: page.text("#upload-result"), "the import", timeout=120)
    assert page.text("#upload-result").startswith("Imported ")
    image_id = json.loads(ui_store.out("image", "inspect", "localhost/demo/imported:3"))[0]["Id"]
    assert page.text("#upload-result") == "Imported " + image_id[:12]
    os.unlink(tar)


def test_prune_previews_then_removes_dangling(page, ui_store):
    dangling = ui_store.make_image("localhost/demo/prune:1", marker="prune old")
    ui_store.make_image("localhost/demo/prune:1", marker="prune new")
    want = {i["Id"] for i in listed(ui_store, "dangling=true", "containers=false")}
    assert dangling in want
    page.open()
    page.list_loaded()
    page.one("#prune-open").click()
    page.wait(lambda: page.visible("#prune-go"), "the preview")
    preview = page.text("#prune-list")
    assert "These %d image(s)" % len(want) in preview
    assert all(i[:12] in preview for i in want)
    assert ui_store.base_id[:12] not in preview
    page.one("#prune-go").click()
    page.wait(lambda: page.text("#prune-result"), "the prune")
    assert page.text("#prune-result").startswith("Removed %d image(s)" % len(want))
    assert not want & ui_store.image_ids()
    assert ui_store.base_id in ui_store.image_ids()


def test_read_only_token_sees_no_write_buttons(page, ui_store):
    page.open(token=READER)
    page.list_loaded()
    assert page.text("#who") == "reader \u00b7 read-only"
    for sel in ["#pull-open", "#upload-open", "#prune-open"]:
        assert not page.visible(sel), sel
    open_image(page, ui_store.other_id, token=READER)
    page.wait(lambda: page.css("svg.tree"), "the image page")
    for sel in ["#tag-form", "#remove-go", "#export-go", "button.untag"]:
        assert not page.visible(sel), sel
    assert page.text("#image-title").startswith(OTHER)
    # and the server refuses them anyway, with the page's own token
    status = page.d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('../v4.3.1/libpod/images/' + arguments[0] + '?force=true', {method: 'DELETE',
              headers: {Authorization: 'Bearer ' + sessionStorage.getItem('podproxy.token')}})
          .then(r => done(r.status));""", ui_store.other_id)
    assert status == 403 and ui_store.other_id in ui_store.image_ids()


def test_sign_in_wrong_then_right_token(page):
    page.open(token=None)
    page.wait(lambda: page.visible("#signin"), "the sign-in form")
    assert not page.visible("#list-view")
    type_into(page, "#token", "wrong-token-0123456789abcdef")
    page.wait(lambda: page.visible("#signin-error"), "the sign-in error")
    assert page.text("#signin-error") == "Sign-in failed: invalid credentials"
    assert page.d.execute_script("return sessionStorage.getItem('podproxy.token')") is None
    type_into(page, "#token", ADMIN)
    page.list_loaded()
    assert page.text("#who") == "admin \u00b7 full"
    assert page.d.execute_script("return sessionStorage.getItem('podproxy.token')") == ADMIN
    assert page.d.execute_script("return document.cookie") == "" and not page.d.get_cookies()
    page.one("#signout").click()
    page.wait(lambda: page.visible("#signin"), "signed out")
    assert page.d.execute_script("return sessionStorage.getItem('podproxy.token')") is None


def test_no_content_security_policy_violations(page, ui_store):
    page.open(hash_="#/image/" + ui_store.child_id)
    page.wait(lambda: len(page.css("svg.tree")) == 2, "the image page")
    time.sleep(0.5)
    errors = [e["message"] for e in page.console_errors()]
    assert not [m for m in errors if "Content Security Policy" in m or "Refused" in m], errors


def test_remove_an_image_with_two_names_asks_for_force(page, ui_store):
    image_id = ui_store.make_image("localhost/demo/two-names:1", marker="two names")
    ui_store.out("tag", image_id, "localhost/demo/two-names:2")
    open_image(page, image_id)
    page.one("#remove-go").click()
    page.wait(lambda: page.text("#action-result"), "the refusal")
    text = page.text("#action-result")
    assert text.startswith("Remove failed: unable to delete image") and "more than one tag" in text
    assert "remove names with \u00d7 first" in text
    assert image_id in ui_store.image_ids()
    page.one("#remove-force").click()
    page.one("#remove-go").click()
    page.wait(lambda: page.visible("#list-view"), "back to the list")
    assert image_id not in ui_store.image_ids()
