"""What the chart tests share: reading a chart through HTTP, and the values it should hold."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def chart_reader(client, headers: dict, collection: str) -> Callable[..., dict]:
    """``read(id, query="")``: the chart of item ``id`` of ``collection`` (a URL), checked to be a 200."""

    def read(item_id: str, query: str = "") -> dict:
        response = client.get(f"{collection}/{item_id}/chart?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return response.json

    return read


def nulls(values: np.ndarray) -> list:
    """Floats as a chart sends them: NaN as ``None``."""
    return [None if np.isnan(value) else float(value) for value in values]
