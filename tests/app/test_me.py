"""``GET /api/v1/me``: the calling token, as the UI shows it."""

from tickflow.storage.connections import redis_client
from tickflow.storage.tokens import TokenRepository


def test_me_names_the_calling_token_and_never_shows_it(client, db):
    token, _ = TokenRepository(db, redis_client()).create("alice's laptop")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json["name"] == "alice's laptop"
    assert response.json["created_at"] and response.json["last_used_at"]
    assert token not in response.get_data(as_text=True)


def test_me_without_a_token_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
