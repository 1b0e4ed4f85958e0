"""How the front end is bundled and delivered to a phone: a Reflex plugin (listed in
rxconfig.py). Each step was measured with benchmarks/frontend_budget.py (docs/PERFORMANCE.md).

* **Few shared bundles.** Left to itself the bundler gives every Radix component, every icon
  and each piece of Reflex's run-time a file of its own (the check-in page asked for some forty
  small scripts): on a phone's network the requests, each with its headers, not the bytes, set
  how soon a page shows. The kit with Reflex's run-time, and the icons, are grouped into two
  bundles cached across pages (React and the router are shared by the bundler itself). A
  single bundle of everything measured worse: it carried code some pages do not run. So the
  kit's shared bundle holds only what ``SHARED_BY`` pages or more use; the rest (dialogs,
  tables, switches: mostly the clinician's) is bundled by the set of pages that use it. Charts
  (recharts) stay with the clinician page that draws them.
* **Only the kit's components in use.** Reflex's app root offers the whole UI kit to
  components evaluated in the browser at run time (the app has none); that import defeated
  tree-shaking, so every Radix component was in every page's bundle. It is taken out.
* **Only their styles.** After the build, the stylesheet loses every selector that needs a
  Radix component class no built script names (``prune_built_styles``); what changed, and what
  names it, gets new hashed names, so no phone keeps a stale copy.
* **Only the breakpoints in use.** Half the kit's stylesheet is its utilities repeated for
  five screen widths; a width no page gives a responsive prop (``{initial: "1", md: "2"}``)
  loses its copies (``component_classes_named``).
* **Only the colours in use.** Radix Themes' stylesheet carries all 31 colour scales; the app
  uses ``USED_COLORS`` (a test checks every colour named in the code is among them).
* **The page first, its scripts after.** Every page is prerendered, so its HTML and stylesheet
  are all a first paint needs; the router's module preloads are marked ``fetchpriority="low"``
  so that, on a phone's shared connection, the scripts that hydrate the page do not compete
  with the stylesheet (``low_priority_preloads``).

It imports nothing of the app, so rxconfig.py can load it before the app exists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import reflex as rx
import tinycss2

VITE_CONFIG = "vite.config.js"
ANCHOR = "groups: ["
ROOT_STYLESHEET = "styles/__reflex_global_styles.css"
APP_ROOT = "app/root.jsx"
# With rxconfig's frontend_lazy_bundled_libraries, Reflex's root still offers the whole UI kit
# to components evaluated in the browser at run time; the app has none. That one dynamic
# import pulls every Radix component into the shared bundle, so it is taken out.
KIT_LOADER = '"@radix-ui/themes": () => import("@radix-ui/themes"),\n'
RADIX_STYLESHEET = "@import url('@radix-ui/themes/styles.css');"
# Every Radix colour the app names (accent indigo, gray sand, and the colour schemes and
# rx.color() calls in kapjourney/); tests/test_static_delivery.py keeps the list complete.
USED_COLORS = ("gray", "sand", "indigo", "red", "green", "amber", "blue", "grass", "orange", "teal")
RADIX_COLORS = (  # noqa: SIM905 - all 31 of the kit's scales
    "amber blue bronze brown crimson cyan gold grass gray green indigo iris jade lime mauve mint "
    "olive orange pink plum purple red ruby sage sand sky slate teal tomato violet yellow"
).split()
# Radix Themes and the primitives and helpers it is built on.
UI_KIT = (
    "@radix-ui",
    "@floating-ui",
    "radix-ui",
    "react-remove-scroll",
    "react-remove-scroll-bar",
    "react-style-singleton",
    "use-callback-ref",
    "use-sidecar",
    "aria-hidden",
    "get-nonce",
    "classnames",
)
ICONS = ("lucide-react",)


# A kit module that this many pages (entry chunks) use is in the one shared kit bundle; the
# rest (dialogs, tables, menus: the clinician's pages, mostly) go to bundles by the set of pages
# that use them, so a client page does not load and run what it never draws.
SHARED_BY = 8
# Bundles of the rest smaller than this join their nearest neighbour (fewer requests).
MERGE_BELOW = 16_000


def _group(
    name: str, packages: tuple[str, ...], *, runtime: bool = False, options: str = ""
) -> str:
    # Module ids are absolute paths; [\\/] matches either separator. With ``runtime``,
    # Reflex's own run-time (.web/utils: the state, its context) joins, all but its env.json.
    sep = "[\\\\/]"
    test = f"(node_modules{sep}({'|'.join(packages)}){sep})"
    if runtime:
        test += f"|({sep}\\.web{sep}utils{sep}(?!env\\.json))"
    return f"""
            {{
              name: "{name}",
              test: /{test}/,{options}
            }},"""


GROUPS = (
    _group("ui-kit", UI_KIT, runtime=True, options=f" minShareCount: {SHARED_BY}, priority: 2,")
    + _group(
        "ui-kit-some",
        UI_KIT,
        runtime=True,
        options=f" entriesAware: true, entriesAwareMergeThreshold: {MERGE_BELOW}, priority: 1,",
    )
    + _group("icons", ICONS)
)


def group_bundles(vite_config: str) -> str:
    """Reflex's generated vite config with our chunk groups ahead of its own."""
    if vite_config.count(ANCHOR) != 1:
        raise RuntimeError(
            f"{VITE_CONFIG} no longer has one '{ANCHOR}' (Reflex changed its template): "
            "update kapjourney/ui/bundling.py"
        )
    return vite_config.replace(ANCHOR, ANCHOR + GROUPS)


def trim_colors(stylesheet: str) -> str:
    """Reflex's root stylesheet with the whole Radix Themes sheet replaced by its parts, with
    only the colour scales in ``USED_COLORS`` (the same order as the kit's own tokens.css)."""
    if stylesheet.count(RADIX_STYLESHEET) != 1:
        raise RuntimeError(
            f"{ROOT_STYLESHEET} no longer has one {RADIX_STYLESHEET!r} (Reflex changed its "
            "template): update kapjourney/ui/bundling.py"
        )
    parts = [f"tokens/colors/{color}.css" for color in USED_COLORS]
    parts += ["tokens/base.css", "components.css", "utilities.css"]
    imports = "".join(f"@import url('@radix-ui/themes/{part}');" for part in parts)
    return stylesheet.replace(RADIX_STYLESHEET, imports)


# A Radix Themes component's own class ("rt-Button", "rt-TableRoot"): the kit writes each as a
# whole string in its JavaScript, never pieced together, so a build whose scripts never name
# one has no element that carries it.
COMPONENT_CLASS = re.compile(r"rt-[A-Z][A-Za-z0-9]*")
# A kit utility class for one breakpoint ("md:rt-r-gtc-2"): half the kit's stylesheet is these,
# five breakpoints of every utility. The kit pieces each together at run time from a responsive
# prop's object (``columns=rx.breakpoints(initial="1", md="2")`` is built as
# ``{initial:"1",md:"2"}``), so a breakpoint no script writes as such a key has no element that
# carries one of its classes. (Responsive style props become media queries in the page's own
# styles, not kit classes.)
BREAKPOINT_CLASS = re.compile(r"(?P<breakpoint>xs|sm|md|lg|xl):rt-[a-z][A-Za-z0-9-]*")
RESPONSIVE_KEY = re.compile(r"""[{,]\s*\[?\s*["'`]?(xs|sm|md|lg|xl)["'`]?\s*\]?\s*:""")
# Blocks whose content is rules (pruned inside); any other at-rule is kept whole.
RULE_BLOCKS = {"media", "supports", "layer", "container"}
HASHED_NAME = re.compile(r"^(?P<stem>.+)-(?P<hash>[A-Za-z0-9_-]{8})\.(?P<ext>js|css)$")
TEXT_SUFFIXES = {".html", ".js", ".css", ".json"}


def component_classes_named(texts: Iterable[str]) -> set[str]:
    """The kit's component classes the scripts name, and ``"md:"`` for every breakpoint they
    give a responsive prop (that breakpoint's utility classes may then be on an element)."""
    texts = list(texts)
    named = {match for text in texts for match in COMPONENT_CLASS.findall(text)}
    return named | {key + ":" for text in texts for key in RESPONSIVE_KEY.findall(text)}


def _needs(name: str) -> str | None:
    """What ``name`` (a class in a selector) needs named in the scripts for an element to
    carry it: its component class, or its breakpoint; None for any other class."""
    if COMPONENT_CLASS.fullmatch(name):
        return name
    if bp := BREAKPOINT_CLASS.fullmatch(name):
        return bp["breakpoint"] + ":"
    return None


def _selectors(prelude: list) -> list[list]:
    """A rule's selector list split at its top-level commas (commas inside :where() stay)."""
    parts: list[list] = [[]]
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _required_classes(selector: list) -> set[str]:
    """What the scripts must name for ``selector`` to match (``_needs`` of the classes an
    element or its ancestor must carry): the classes written at its top level, and those inside
    a :where() or :is() of one alternative (``.rt-Text:where(.md\\:rt-r-size-2)``). A class
    among alternatives (``:is(.a, .b)``) is not required, nor one under :not() (its absence
    matches) or :has(), so it never gets a selector removed."""
    required = set()
    for previous, token in zip([None, *selector], selector, strict=False):
        if (
            token.type == "ident"
            and previous is not None
            and previous.type == "literal"
            and previous.value == "."
            and (need := _needs(token.value))
        ):
            required.add(need)
        elif (
            token.type == "function"
            and token.lower_name in ("where", "is")
            and len(alternatives := _selectors(token.arguments)) == 1
        ):
            required |= _required_classes(alternatives[0])
    return required


def _prune_rules(nodes: list, used: set[str]) -> list:
    kept = []
    for node in nodes:
        if node.type == "qualified-rule":
            selectors = [
                part for part in _selectors(node.prelude) if _required_classes(part) <= used
            ]
            if not selectors:
                continue
            node.prelude = [
                token
                for i, part in enumerate(selectors)
                for token in ([tinycss2.ast.LiteralToken(0, 0, ",")] if i else []) + part
            ]
        elif node.type == "at-rule" and node.lower_at_keyword in RULE_BLOCKS and node.content:
            inner = _prune_rules(tinycss2.parse_rule_list(node.content), used)
            if not any(n.type in ("qualified-rule", "at-rule") for n in inner):
                continue
            node.content = inner
        kept.append(node)
    return kept


def prune_components(css: str, used: set[str]) -> str:
    """``css`` without the selectors that need a Radix component class no script names, or a
    utility class of a breakpoint no script uses (``used``: ``component_classes_named``), and
    without the rules and media blocks left empty by that. Everything else is kept as it was:
    tokens, other utilities, the app's own rules, keyframes, fonts."""
    nodes = tinycss2.parse_stylesheet(css, skip_comments=True)
    return tinycss2.serialize(_prune_rules(nodes, used))


def rename_after_pruning(static_dir: Path, changed: dict[Path, str]) -> dict[str, str]:
    """New names for the pruned stylesheets (``changed``: path -> new content, already
    written) and, in turn, for every hashed asset (``name-HASH.ext``) that names one of them,
    directly or through another. A returning phone keeps its immutable copies of old files, so
    a name must never stand for two contents: each new hash is drawn from the old one and the
    pruned stylesheets' content. (Not from each file's own new content: bundles name each
    other in cycles.) Pages are edited in place; they are served no-cache.
    Returns {old name: new name}."""
    files = [p for p in static_dir.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES]
    texts = {p: p.read_text(encoding="utf-8") for p in files}
    salt = hashlib.sha256("".join(changed[p] for p in sorted(changed)).encode()).hexdigest()
    affected = {p for p in changed if HASHED_NAME.match(p.name)}
    frontier = set(affected)
    while frontier:  # every hashed asset that names an affected one, transitively
        names = {p.name for p in frontier}
        frontier = {
            p
            for p in files
            if p not in affected
            and HASHED_NAME.match(p.name)
            and any(name in texts[p] for name in names)
        }
        affected |= frontier
    renamed = {}
    for path in affected:
        match = HASHED_NAME.match(path.name)
        digest = hashlib.sha256(f"{match['hash']}:{salt}".encode()).hexdigest()[:8]
        renamed[path.name] = f"{match['stem']}-{digest}.{match['ext']}"
    if not renamed:
        return renamed
    pattern = re.compile(
        "|".join(re.escape(name) for name in sorted(renamed, key=len, reverse=True))
    )
    for path in files:
        text = texts[path]
        new_text = pattern.sub(lambda m: renamed[m.group(0)], text)
        if new_text != text:
            path.write_text(new_text, encoding="utf-8")
    for path in affected:
        path.rename(path.with_name(renamed[path.name]))
    return renamed


def prune_built_styles(static_dir: Path) -> dict[str, int]:
    """After the production build: prune every built stylesheet to the Radix components and
    breakpoints the built scripts name, then rename what changed. Returns {stylesheet: bytes
    removed}."""
    assets = static_dir / "assets"
    used = component_classes_named(p.read_text(encoding="utf-8") for p in assets.glob("*.js"))
    removed: dict[str, int] = {}
    changed: dict[Path, str] = {}
    for sheet in sorted(assets.glob("*.css")):
        css = sheet.read_text(encoding="utf-8")
        pruned = prune_components(css, used)
        if pruned != css:
            sheet.write_text(pruned, encoding="utf-8")
            removed[sheet.name] = len(css.encode()) - len(pruned.encode())
            changed[sheet] = pruned
    rename_after_pruning(static_dir, changed)
    return removed


MODULE_PRELOAD = re.compile(r'<link rel="modulepreload"(?![^>]*\bfetchpriority=)')


def low_priority_preloads(static_dir: Path) -> list[str]:
    """Mark every module preload of the built pages ``fetchpriority="low"``: a prerendered page
    paints from its HTML and stylesheet, and its scripts follow. Returns the pages changed."""
    changed = []
    for page in sorted(static_dir.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        marked = MODULE_PRELOAD.sub('<link rel="modulepreload" fetchpriority="low"', html)
        if marked != html:
            page.write_text(marked, encoding="utf-8")
            changed.append(str(page.relative_to(static_dir)))
    return changed


def drop_kit_loader(root: str) -> str:
    """Reflex's app root without the run-time loader of the whole UI kit (``KIT_LOADER``)."""
    if root.count(KIT_LOADER) != 1:
        raise RuntimeError(
            f"{APP_ROOT} no longer has one {KIT_LOADER.strip()!r} (Reflex changed its "
            "template, or frontend_lazy_bundled_libraries is off): update "
            "kapjourney/ui/bundling.py"
        )
    return root.replace(KIT_LOADER, "")


class BundlingPlugin(rx.plugins.Plugin):
    def pre_compile(self, **context: Any) -> None:
        context["add_modify_task"](VITE_CONFIG, group_bundles)
        context["add_modify_task"](ROOT_STYLESHEET, trim_colors)
        context["add_modify_task"](APP_ROOT, drop_kit_loader)

    def post_build(self, **context: Any) -> None:
        # Reflex compresses the build after this hook, so the sidecars match the new files.
        prune_built_styles(Path(context["static_dir"]))
        low_priority_preloads(Path(context["static_dir"]))
