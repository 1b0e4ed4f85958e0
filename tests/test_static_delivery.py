"""How the built front end is delivered (kapjourney/http/static.py) in front of Reflex's own
static mount, and the bundling plugin's edit of Reflex's vite config (kapjourney/ui/bundling.py).
The real server is checked in tests/browser/test_frontend_budget.py."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
from starlette.applications import Starlette
from starlette.routing import Mount

from kapjourney.http.static import StaticDelivery, built_pages
from kapjourney.ui.bundling import (
    KIT_LOADER,
    RADIX_COLORS,
    RADIX_STYLESHEET,
    SHARED_BY,
    USED_COLORS,
    component_classes_named,
    drop_kit_loader,
    group_bundles,
    low_priority_preloads,
    prune_built_styles,
    prune_components,
    trim_colors,
)

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
    names = ("ui-kit", "ui-kit-some", "icons", "reflex-env")
    order = [edited.index(f'name: "{name}"') for name in names]
    assert order == sorted(order)
    # What most pages use is one shared bundle; the rest goes by the pages that use it.
    shared, some = edited.split('name: "ui-kit-some"')
    assert f"minShareCount: {SHARED_BY}, priority: 2" in shared.split('name: "ui-kit"')[1]
    assert "entriesAware: true" in some.split("},")[0] and "priority: 1" in some.split("},")[0]
    assert "lucide-react" in edited and "@radix-ui" in edited
    assert "recharts" not in edited  # charts stay with the clinician page that draws them
    assert "utils" in edited and "(?!env" in edited  # Reflex's env.json keeps its own bundle


def test_the_bundling_plugin_refuses_a_template_it_does_not_know():
    with pytest.raises(RuntimeError, match=r"bundling\.py"):
        group_bundles("export default {}")


ROOT = Path(__file__).resolve().parent.parent


def _colors_named_in(path: Path) -> set[str]:
    """Every Radix colour name that stands as a whole string literal in one source file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in RADIX_COLORS
    }


def test_every_colour_the_app_names_is_in_the_trimmed_stylesheet():
    """A colour scheme missing from the stylesheet would draw its badge or button without
    colour: every colour named in kapjourney/ (color_scheme, rx.color, rx.match tables, view
    models) and in rxconfig.py (accent and gray) must be one the plugin imports."""
    sources = [*sorted((ROOT / "kapjourney").rglob("*.py")), ROOT / "rxconfig.py"]
    named = set().union(*(_colors_named_in(path) for path in sources))
    assert {"indigo", "sand", "red"} <= named  # the scan sees the theme and the crisis button
    assert named <= set(USED_COLORS), f"add to USED_COLORS: {sorted(named - set(USED_COLORS))}"


def test_the_trimmed_stylesheet_keeps_tokens_components_and_utilities():
    sheet = "@layer __reflex_base;\n@import url('./reset.css');\n" + RADIX_STYLESHEET
    trimmed = trim_colors(sheet)
    assert "themes/styles.css" not in trimmed
    imports = [line.split("/themes/")[1].split("'")[0] for line in trimmed.split("@import")[2:]]
    assert imports[-3:] == ["tokens/base.css", "components.css", "utilities.css"]
    assert {f"tokens/colors/{c}.css" for c in USED_COLORS} == set(imports[:-3])
    assert trimmed.startswith("@layer __reflex_base;\n@import url('./reset.css');")
    with pytest.raises(RuntimeError, match=r"bundling\.py"):
        trim_colors("@layer __reflex_base;")


KIT_CSS = (
    ".rt-reset{margin:0}"
    ".rt-Button{height:44px}"
    ".rt-TableRoot{border:1px}"
    ".rt-Button:where(.rt-variant-soft),.rt-TableCell{color:red}"
    ".rt-Card:not(.rt-TableRoot){padding:4px}"
    ":where(.rt-TableRoot) .x{gap:1px}"
    ":is(.rt-TableRoot,.rt-Card) .y{gap:2px}"
    "@media (min-width:520px){.sm\\:rt-r-gap-2{gap:8px}.rt-TableRoot{border:2px}}"
    "@media (min-width:768px){.rt-TableRoot{border:3px}}"
    "@keyframes rt-spin{to{transform:rotate(1turn)}}"
    ":root{--gray-1:#fcfcfc}"
)


def test_pruning_drops_only_what_needs_a_component_no_script_names():
    pruned = prune_components(KIT_CSS, {"rt-Button", "rt-Card", "sm:"})
    assert ".rt-TableRoot{border:1px}" not in pruned and "border:3px" not in pruned
    assert ".rt-Button:where(.rt-variant-soft){color:red}" in pruned  # the list loses one part
    assert ".rt-Card:not(.rt-TableRoot){padding:4px}" in pruned  # under :not() it still matches
    assert ".x{gap:1px}" not in pruned  # :where() of one: an ancestor needs the class
    assert ":is(.rt-TableRoot,.rt-Card) .y{gap:2px}" in pruned  # one of two: kept, to be safe
    assert "@media (min-width:520px){.sm\\:rt-r-gap-2{gap:8px}}" in pruned  # sm: in use
    assert "@media (min-width:768px)" not in pruned  # left empty: gone
    for kept in (".rt-reset{margin:0}", "@keyframes rt-spin", ":root{--gray-1:#fcfcfc}"):
        assert kept in pruned
    everything = {"rt-Button", "rt-Card", "rt-TableRoot", "rt-TableCell", "sm:"}
    assert prune_components(KIT_CSS, everything) == KIT_CSS


BREAKPOINT_CSS = (
    ".rt-r-gtc-1{grid-template-columns:1fr}"
    "@media (min-width:520px){.xs\\:rt-r-gtc-2{grid-template-columns:1fr 1fr}}"
    "@media (min-width:768px){.sm\\:rt-r-gtc-2{grid-template-columns:1fr 1fr}}"
    "@media (min-width:1024px){.md\\:rt-r-p-2,.rt-r-p-1{padding:1px}"
    ".rt-Card:where(.md\\:rt-r-size-2){font-size:2px}"
    ":is(.lg\\:rt-r-p-3,.y) .x{gap:1px}.kj-card{color:red}}"
)


def test_pruning_drops_the_utilities_of_breakpoints_no_script_gives_a_prop():
    """The kit writes "sm:rt-r-gtc-2" at run time from ``columns={initial:"1",sm:"2"}``: the
    key is what the built scripts show, and it keeps that breakpoint's utilities."""
    used = component_classes_named(
        ["L(g,{align:`start`,columns:{initial:`1`,sm:`2`},css:{width:`100%`}})", 'c("rt-Card")']
    )
    assert used == {"rt-Card", "sm:"}
    assert component_classes_named(['{["md"] : 2}', "{lg:`3fr 2fr`}", "x.xs=1"]) == {"md:", "lg:"}
    pruned = prune_components(BREAKPOINT_CSS, used)
    assert ".rt-r-gtc-1{grid-template-columns:1fr}" in pruned  # no breakpoint: always kept
    assert ".sm\\:rt-r-gtc-2" in pruned
    assert "xs\\:" not in pruned and "@media (min-width:520px)" not in pruned  # left empty
    assert "md\\:rt-r-p-2" not in pruned and ".rt-r-p-1{padding:1px}" in pruned
    assert "md\\:rt-r-size-2" not in pruned  # the kit's own responsive sizes go too
    assert ":is(.lg\\:rt-r-p-3,.y) .x{gap:1px}" in pruned  # one of two: kept, to be safe
    assert ".kj-card{color:red}" in pruned  # the app's own rules stay


def test_a_pruned_build_renames_what_changed_and_every_file_that_names_it(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    (tmp_path / "checkin").mkdir()
    (assets / "styles-AAAAAAAA.css").write_text(KIT_CSS)
    (assets / "ui-kit-BBBBBBBB.js").write_text('c("rt-Button");c("rt-Card")')
    (assets / "root-CCCCCCCC.js").write_text('links=[{href:"/assets/styles-AAAAAAAA.css"}]')
    (assets / "manifest-DDDDDDDD.js").write_text('{root:"/assets/root-CCCCCCCC.js"}')
    # Two bundles that name each other (a cycle) and the root: both get new names, once.
    (assets / "a-EEEEEEEE.js").write_text('import "./b-FFFFFFFF.js";import "./root-CCCCCCCC.js"')
    (assets / "b-FFFFFFFF.js").write_text('import "./a-EEEEEEEE.js"')
    page = tmp_path / "checkin" / "index.html"
    page.write_text(
        '<link href="/assets/styles-AAAAAAAA.css"><script src="/assets/manifest-DDDDDDDD.js">'
    )

    removed = prune_built_styles(tmp_path)

    assert removed["styles-AAAAAAAA.css"] > 0
    names = sorted(p.name for p in assets.iterdir())
    assert "styles-AAAAAAAA.css" not in names and "root-CCCCCCCC.js" not in names
    assert "manifest-DDDDDDDD.js" not in names and "ui-kit-BBBBBBBB.js" in names
    (sheet,) = assets.glob("styles-*.css")
    (root,) = assets.glob("root-*.js")
    (manifest,) = assets.glob("manifest-*.js")
    assert "rt-TableRoot{border:1px}" not in sheet.read_text()
    assert sheet.name in root.read_text() and root.name in manifest.read_text()
    assert sheet.name in page.read_text() and manifest.name in page.read_text()
    (a,) = assets.glob("a-*.js")
    (b,) = assets.glob("b-*.js")
    assert {a.name, b.name}.isdisjoint({"a-EEEEEEEE.js", "b-FFFFFFFF.js"})
    assert b.name in a.read_text() and root.name in a.read_text() and a.name in b.read_text()
    assert "CCCCCCCC" not in "".join(p.read_text() for p in tmp_path.rglob("*.*"))


def test_new_names_follow_the_pruned_content(tmp_path):
    """The same build pruned the same way gets the same names; pruned differently (a
    component newly in use), different ones, so no phone keeps a stale stylesheet."""

    def build(tmp, scripts):
        (tmp / "assets").mkdir(parents=True)
        (tmp / "assets" / "styles-AAAAAAAA.css").write_text(KIT_CSS)
        (tmp / "assets" / "ui-kit-BBBBBBBB.js").write_text(scripts)
        (tmp / "index.html").write_text('<link href="/assets/styles-AAAAAAAA.css">')
        prune_built_styles(tmp)
        return sorted(p.name for p in (tmp / "assets").glob("*.css"))

    once = build(tmp_path / "one", 'c("rt-Button")')
    again = build(tmp_path / "two", 'c("rt-Button")')
    other = build(tmp_path / "three", 'c("rt-Button");c("rt-TableRoot")')
    assert once == again and once != other and once != ["styles-AAAAAAAA.css"]


def test_the_root_no_longer_loads_the_whole_ui_kit():
    root = 'const loaders = {\n    "a": () => import("a"),\n    ' + KIT_LOADER + "  };"
    assert drop_kit_loader(root) == 'const loaders = {\n    "a": () => import("a"),\n      };'
    with pytest.raises(RuntimeError, match="frontend_lazy_bundled_libraries"):
        drop_kit_loader('import * as radix_ui_themes from "@radix-ui/themes";')


def test_module_preloads_of_every_page_are_low_priority_and_nothing_else_changes(tmp_path):
    """The prerendered page paints from its HTML and stylesheet; its scripts follow."""
    head = (
        '<link as="style" href="/assets/app-AAAA1111.css" rel="preload"/>'
        '<link rel="modulepreload" href="/assets/entry.client-BBBB2222.js"/>'
        '<link rel="modulepreload" href="/assets/root-CCCC3333.js"/>'
        '<link rel="modulepreload" fetchpriority="high" href="/assets/kept-DDDD4444.js"/>'
        '<script type="module">import "/assets/root-CCCC3333.js";</script>'
    )
    (tmp_path / "checkin").mkdir()
    (tmp_path / "checkin" / "index.html").write_text(head, encoding="utf-8")
    (tmp_path / "checkin.html").write_text(head, encoding="utf-8")
    (tmp_path / "assets").mkdir()
    script = tmp_path / "assets" / "root-CCCC3333.js"
    script.write_text('const s = \'<link rel="modulepreload" href="x">\';', encoding="utf-8")

    assert sorted(low_priority_preloads(tmp_path)) == ["checkin.html", "checkin/index.html"]
    page = (tmp_path / "checkin.html").read_text(encoding="utf-8")
    assert page.count('<link rel="modulepreload" fetchpriority="low" href=') == 2
    assert 'fetchpriority="high" href="/assets/kept-DDDD4444.js"' in page  # a choice made is kept
    assert page.replace(' fetchpriority="low"', "") == head
    assert "fetchpriority" not in script.read_text(encoding="utf-8")  # pages only
    assert low_priority_preloads(tmp_path) == []  # once is enough
