"""Discovery endpoints the dandi client calls first, and the API documentation."""

from dandischema.consts import DANDI_SCHEMA_VERSION


def test_server_info_at_host_root_and_api(api):
    for path in ("/server-info", "/api/info/"):
        info = api.get(path).json()
        assert info["schema_version"] == DANDI_SCHEMA_VERSION
        assert DANDI_SCHEMA_VERSION in info["allowed_schema_versions"]
        assert info["services"]["api"]["url"] == "http://testserver/api"
        assert info["cli-minimal-version"]
        assert info["cli-bad-versions"] == []
        assert info["version"]


def test_schema_endpoint_serves_dandischema_json_schema(api):
    schema = api.get("/api/schemas/", params={"model": "Dandiset"}).json()
    assert "contributor" in schema["properties"]
    r = api.get("/api/schemas/", params={"model": "Nope"})
    assert r.status_code == 400
    assert "Nope" in r.json()["detail"]


def test_openapi_and_swagger_ui(api):
    spec = api.get("/api/openapi.json").json()
    assert "/api/dandisets/" in spec["paths"]
    assert "/api/uploads/initialize/" in spec["paths"]
    page = api.get("/swagger/")
    assert page.status_code == 200
    assert "swagger" in page.text.lower()


def test_server_info_has_upstreams_shape(make_api):
    """``services.jupyterhub`` is an object as upstream (the web app reads its ``url``),
    and ``instance_config.instance_url`` says where the instance is: its web URL."""
    info = make_api().get("/api/info/").json()
    assert info["services"]["jupyterhub"] == {"url": ""}
    assert info["services"]["webui"] == {"url": "http://testserver"}
    assert info["instance_config"]["instance_url"] == "http://testserver/"
    configured = make_api(
        jupyterhub_url="https://hub.example.org", web_url="https://archive.example.org"
    )
    info = configured.get("/api/info/").json()
    assert info["services"]["jupyterhub"] == {"url": "https://hub.example.org"}
    assert info["instance_config"]["instance_url"] == "https://archive.example.org/"
