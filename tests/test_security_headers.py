"""The security layer (kapjourney/http/security.py) around an app composed as Reflex composes its
single-port production app: our FastAPI routes, with Reflex's part mounted inside them (the event
socket at /_event, /ping, /_health and the built pages as static files, 404 page included), under
an outer Starlette with Reflex's CORS layer. Every response carries the headers, the policy
hashes the built pages' inline scripts, and a foreign Origin is refused everywhere.

The real server is checked the same way in tests/browser/test_csp.py.
"""

from __future__ import annotations

import base64
import hashlib
import warnings

import pytest
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from kapjourney.http.app import create_api
from kapjourney.http.security import (
    content_security_policy,
    inline_script_hashes,
    origin_allowed,
    secure_app,
)
from kapjourney.settings import Settings

# starlette 1.10 warns at import that it wants the ``httpx2`` package; the project pins httpx.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="Using `httpx` with `starlette.testclient`", category=UserWarning
    )
    from fastapi.testclient import TestClient

OWN = "http://testserver"
EVIL = "https://evil.example"
THEME = "document.documentElement.classList.add('light');"
BOOT = '\nwindow.__ctx = {"basename": "/"};\n'
PAGE = (
    "<!DOCTYPE html><html><head><script>{theme}</script><script src='/assets/app.js'></script>"
    "</head><body><p>page</p><script type='module' async>{boot}</script></body></html>"
)


def _sha(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@pytest.fixture
def build_dir(tmp_path):
    built = tmp_path / "build" / "client"
    (built / "assets").mkdir(parents=True)
    (built / "index.html").write_text(PAGE.format(theme=THEME, boot=BOOT))
    (built / "404.html").write_text("<html><body><script>$RC('B:1')</script>gone</body></html>")
    (built / "assets" / "app.js").write_text("console.log('app')")
    return built


async def _event_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text("0{}")
    await websocket.close()


def _reflex_like(build_dir) -> Starlette:
    """Reflex's own part of the app: backend routes, the socket, the built pages."""
    return Starlette(
        routes=[
            Route("/ping", lambda request: JSONResponse("pong")),
            Route("/_health", lambda request: JSONResponse({"status": True})),
            Route("/_event/", lambda request: PlainTextResponse("0{}")),
            WebSocketRoute("/_event/", _event_socket),
            Mount("/", StaticFiles(directory=build_dir, html=True)),
        ]
    )


def _whole_app(settings: Settings, build_dir):
    api = create_api(settings)  # what rx.App(api_transformer=...) does with a FastAPI app
    api.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    api.mount("", _reflex_like(build_dir))
    top = Starlette(routes=[Mount("", api)])
    top.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"])
    return secure_app(top, settings=settings, build_dir=build_dir)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", public_url=OWN)


@pytest.fixture
def client(engine, settings, build_dir):
    with TestClient(_whole_app(settings, build_dir), raise_server_exceptions=False) as c:
        yield c


def _assert_secured(response) -> dict[str, str]:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert len(headers.get_list("content-security-policy")) == 1  # the inner copy stood aside
    directives = [d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";")]
    policy = {name: values for name, values in directives}
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert policy["connect-src"] == "'self' ws://testserver"
    return policy


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),  # a built page
        ("/assets/app.js", 200),  # a static asset
        ("/no-such-page", 404),  # the built 404 page
        ("/api/health", 200),  # our HTTP routes
        ("/offline.html", 200),
        ("/ping", 200),  # Reflex's backend routes
        ("/_health", 200),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status
    _assert_secured(response)
    assert "strict-transport-security" not in response.headers  # plain HTTP


def test_the_policy_admits_exactly_the_built_pages_inline_scripts(client):
    policy = _assert_secured(client.get("/"))
    allowed = {s.strip("'") for s in policy["script-src"].split()}
    assert allowed == {
        "self",
        "unsafe-eval",  # Reflex evaluates rx.call_script and server-sent actions (module doc)
        f"sha256-{_sha(THEME)}",
        f"sha256-{_sha(BOOT)}",
        f"sha256-{_sha('$RC(' + repr('B:1') + ')')}",
    }
    assert policy["style-src"] == "'self' 'unsafe-inline'"  # Radix and emotion style inline


def test_hashes_are_of_the_exact_script_text_and_skip_external_scripts(build_dir):
    assert set(inline_script_hashes(build_dir)) == {
        _sha(THEME),
        _sha(BOOT),
        _sha("$RC('B:1')"),
    }
    assert inline_script_hashes(build_dir / "missing") == ()


def test_hsts_only_when_served_over_https(engine, tmp_path, build_dir):
    secure = Settings(data_dir=tmp_path / "data", public_url="https://testserver")
    app = _whole_app(secure, build_dir)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as c:
        for path in ("/", "/no-such-page", "/_health", "/api/health"):
            hsts = c.get(path).headers["strict-transport-security"]
            assert hsts == "max-age=31536000; includeSubDomains"
        policy = c.get("/").headers["content-security-policy"]
        assert "connect-src 'self' wss://testserver;" in policy


@pytest.mark.parametrize(
    "origin", [EVIL, "null", "http://testserver.evil.example", "https://testserver"]
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/auth/signin"),
        ("post", "/auth/signout"),
        ("post", "/api/push/subscriptions"),
        ("get", "/_event/?EIO=4&transport=polling"),
        ("get", "/"),
        ("get", "/api/health"),
    ],
)
def test_a_foreign_origin_is_refused_on_every_route(client, method, path, origin):
    response = getattr(client, method)(path, headers={"Origin": origin})
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert "set-cookie" not in response.headers
    _assert_secured(response)


def test_a_cors_preflight_from_a_foreign_origin_is_refused(client):
    response = client.options(
        "/auth/signin",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    _assert_secured(response)


def test_the_own_origin_passes_and_the_refusal_is_logged(client, caplog):
    assert client.get("/_event/?EIO=4&transport=polling", headers={"Origin": OWN}).text == "0{}"
    assert client.get("/", headers={"Origin": OWN}).status_code == 200
    assert client.get("/api/health").status_code == 200  # no Origin: curl, probes
    with caplog.at_level("WARNING", logger="kapjourney.http.security"):
        client.get("/_event/?EIO=4&transport=polling&token=secret", headers={"Origin": EVIL})
    assert "refused a http request to /_event/ from origin 'https://evil.example'" in caplog.text
    assert "secret" not in caplog.text  # the socket's token travels in the query


def test_the_event_socket_needs_an_origin_even_for_polling(client):
    assert client.get("/_event/?EIO=4&transport=polling").status_code == 403


def test_the_websocket_handshake_accepts_only_the_own_origin(client):
    with client.websocket_connect("/_event/", headers={"Origin": OWN}) as ws:
        assert ws.receive_text() == "0{}"
    for headers in ({"Origin": EVIL}, {"Origin": "null"}, {}):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/_event/", headers=headers) as ws,
        ):
            ws.receive_text()
        assert refused.value.code == 1008, headers


def test_a_native_form_post_under_no_referrer_says_null_and_is_known_by_fetch_metadata():
    allowed = (OWN,)
    form = {"origin": "null", "sec-fetch-site": "same-origin"}
    assert origin_allowed(form, allowed, required=False)
    assert not origin_allowed({**form, "sec-fetch-site": "cross-site"}, allowed, required=False)
    assert not origin_allowed({"origin": "null"}, allowed, required=False)
    assert origin_allowed({}, allowed, required=False)
    assert not origin_allowed({}, allowed, required=True)


def test_the_app_answers_at_its_public_origin_its_loopback_names_and_extra_origins(tmp_path):
    local = Settings(data_dir=tmp_path, public_url="http://localhost:3000/")
    assert local.allowed_origins == (
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://[::1]:3000",
    )
    public = Settings(
        data_dir=tmp_path,
        public_url="https://kap.clinic.example",
        extra_origins=" https://journey.clinic.example/ , not an origin, ftp://x.example",
    )
    assert public.allowed_origins == (
        "https://kap.clinic.example",
        "https://journey.clinic.example",
    )
    policy = content_security_policy(origins=local.allowed_origins)
    assert "connect-src 'self' ws://localhost:3000 ws://127.0.0.1:3000;" in policy  # no IPv6


def test_a_sign_in_form_may_go_on_to_the_single_sign_on_provider(tmp_path, build_dir):
    sso = Settings(data_dir=tmp_path, public_url=OWN, oidc_issuer="https://idp.example/realms/kap")
    with TestClient(secure_app(Starlette(), settings=sso, build_dir=build_dir)) as c:
        policy = c.get("/").headers["content-security-policy"]
    assert "form-action 'self' https://idp.example;" in policy


def test_reflex_cors_and_socket_server_take_only_the_app_origins():
    import rxconfig
    from kapjourney.settings import get_settings

    assert rxconfig.config.cors_allowed_origins == list(get_settings().allowed_origins)
    assert "*" not in rxconfig.config.cors_allowed_origins
    assert get_settings().socket_max_message_bytes == 64 * 1024
