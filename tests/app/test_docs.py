import re

import pytest


@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.json


def test_the_openapi_document_is_3_0_3_and_lists_every_path(openapi):
    assert openapi["openapi"] == "3.0.3"
    assert openapi["info"]["title"] and openapi["info"]["version"] == "v1"
    assert {"/api/v1/health", "/api/v1/strategies", "/api/v1/strategies/{strategy_id}"} <= set(openapi["paths"])
    assert set(openapi["paths"]["/api/v1/strategies/{strategy_id}"]) >= {"get", "put", "patch", "delete"}


def test_the_openapi_document_declares_bearer_auth_and_exempts_health(openapi):
    assert openapi["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert openapi["security"] == [{"bearerAuth": []}]
    assert openapi["paths"]["/api/v1/health"]["get"]["security"] == []


def test_the_openapi_document_describes_request_bodies_and_errors(openapi):
    post = openapi["paths"]["/api/v1/strategies"]["post"]
    assert "application/json" in post["requestBody"]["content"]
    assert "201" in post["responses"] and "Location" in post["responses"]["201"]["headers"]
    patch = openapi["paths"]["/api/v1/strategies/{strategy_id}"]["patch"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert "Error" in openapi["components"]["schemas"]


def test_the_swagger_ui_page_loads_its_assets_from_the_app_not_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 3
    assert not re.search(r"https?://|//cdn", html)
    for asset in assets:
        assert asset.startswith("/api/v1/docs/assets/")
        response = client.get(asset)
        assert response.status_code == 200 and len(response.data) > 1000
    assert '"/api/v1/openapi.json"' in html


def test_every_operation_documents_the_body_of_its_success_response(openapi):
    """So that a client can be generated from the document: 204s have no body, everything else a schema."""
    undocumented = []
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            success = {code: body for code, body in operation["responses"].items() if code.startswith("2")}
            if not success or not all(code == "204" or body.get("content") for code, body in success.items()):
                undocumented.append(f"{method.upper()} {path}")
    assert undocumented == []


def test_schema_names_are_unique_so_none_is_renamed(recwarn, db, redis):
    from app import create_app

    create_app().test_client().get("/api/v1/openapi.json")
    assert not [w for w in recwarn if "Multiple schemas resolved" in str(w.message)]
