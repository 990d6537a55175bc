"""An API client of a class server (an access token and a name per student), shared by the
owner tests: runs (test_owners.py) and uploads (test_upload_owners.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
import requests

TOKEN, ADMIN = "class-token", "teacher-token"
LONG = {"task": "sin", "samples": 100, "epochs": 100_000, "epochs_per_second": 5}


class Client:
    """An API client: the token, and an X-Client-Name (None: none)."""

    def __init__(self, url: str, name: str | None, token: str = TOKEN) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        if name:
            self.headers["X-Client-Name"] = name

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, f"{self.url}/api{path}", json=body,
                                headers=self.headers, timeout=30)  # fmt: skip

    def start(self, **config: Any) -> str:
        answer = self.call("POST", "/runs", {**LONG, **config})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def upload(self, name: str = "data.csv", data: bytes | None = None) -> requests.Response:
        files = {"file": (name, small_csv() if data is None else data)}
        return requests.post(f"{self.url}/api/datasets", files=files, headers=self.headers,
                             timeout=30)  # fmt: skip

    def uploaded(self, name: str = "data.csv", data: bytes | None = None) -> str:
        answer = self.upload(name, data)
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]

    def listed(self) -> dict[str, dict[str, Any]]:
        answer = self.call("GET", "/datasets")
        assert answer.ok, answer.text
        return {entry["id"]: entry for entry in answer.json()["datasets"]}


def small_csv() -> bytes:
    """A 50-row table x, x² (a few hundred bytes)."""
    xs = np.linspace(-1, 1, 50)
    return ("x,target\n" + "\n".join(f"{x:.4f},{x * x:.4f}" for x in xs) + "\n").encode()
