"""How the built front end is delivered (kapjourney/http/static.py) in front of Reflex's own
static mount, and the bundling plugin's edit of Reflex's vite config (kapjourney/ui/bundling.py).
The real server is checked in tests/browser/test_frontend_budget.py."""

from __future__ import annotations

import warnings

import pytest
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
from starlette.applications import Starlette
from starlette.routing import Mount

from kapjourney.http.static import StaticDelivery, built_pages
from kapjourney.ui.bundling import group_bundles

# starlette 1.10 warns at import that it wants the ``httpx2`` package; the project pins httpx.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient


@pytest.fixture
def build_dir(tmp_path):
    built = tmp_path / "client"
    for page in ("checkin", "signin", "signin/verify"):
        (built / page).mkdir(parents=True)
        (built / page / "index.html").write_text(f"<p>{page}</p>")
    (built / "index.html").write_text("<p>home</p>")
    (built / "404.html").write_text("<p>not found</p>")
    (built / "assets").mkdir()
    (built / "assets" / "entry-Ab12.js").write_text("console.log('bundle')")
    (built / "icons").mkdir()
    (built / "icons" / "favicon.png").write_bytes(b"\x89PNG")
    return built


@pytest.fixture
def client(build_dir):
    # Reflex's own production mount, as `reflex run --env prod` serves the build.
    static = PrecompressedStaticFiles(directory=build_dir, html=True, encodings=["gzip"])
    app = Starlette(routes=[Mount("/", app=static)])
    with TestClient(StaticDelivery(app, build_dir=build_dir), follow_redirects=False) as c:
        yield c


def test_the_built_pages_are_found_without_the_root(build_dir):
    assert built_pages(build_dir) == {"/checkin", "/signin", "/signin/verify"}
    assert built_pages(build_dir / "missing") == frozenset()


@pytest.mark.parametrize("path", ["/checkin", "/signin", "/signin/verify"])
def test_a_page_is_served_at_its_own_address_without_a_redirect(client, path):
    answer = client.get(path + "?from=reminder")
    assert answer.status_code == 200
    assert answer.text == f"<p>{path.strip('/')}</p>"


def test_without_the_layer_the_mount_redirects(build_dir):
    static = PrecompressedStaticFiles(directory=build_dir, html=True)
    with TestClient(Starlette(routes=[Mount("/", app=static)]), follow_redirects=False) as c:
        assert c.get("/checkin").status_code == 307  # what the layer saves a phone


def test_other_paths_pass_through_untouched(client):
    assert client.get("/").text == "<p>home</p>"
    assert client.get("/checkin/").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.get("/icons/favicon.png").headers.get("cache-control") == "no-cache"
    assert client.post("/checkin").status_code == 405  # only GET and HEAD are rewritten


@pytest.mark.parametrize("path", ["/checkin", "/checkin/", "/"])
def test_pages_are_revalidated_every_time_never_reused_from_the_cache(client, path):
    """Offline, a page reused from the browser's heuristic cache would be an app shell with no
    server behind it; the service worker's offline page is what a phone must get."""
    answer = client.get(path)
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.headers.get("etag") or answer.headers.get("last-modified")


def test_hashed_bundles_are_cacheable_for_good(client):
    answer = client.get("/assets/entry-Ab12.js")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get("/assets/entry-Ab12.js", headers={"If-None-Match": answer.headers["etag"]})
    assert again.status_code == 304
    assert "immutable" in again.headers["cache-control"]
    missing = client.get("/assets/gone-Zz99.js")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


def test_the_bundling_plugin_puts_its_groups_ahead_of_reflexs_own():
    config = 'output: { codeSplitting: { groups: [ { test: /env.json/, name: "reflex-env" } ] } }'
    edited = group_bundles(config)
    assert edited.index('name: "ui-kit"') < edited.index('name: "icons"') < edited.index("env")
    assert "lucide-react" in edited and "@radix-ui" in edited


def test_the_bundling_plugin_refuses_a_template_it_does_not_know():
    with pytest.raises(RuntimeError, match=r"bundling\.py"):
        group_bundles("export default {}")
