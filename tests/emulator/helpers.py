"""A tiny requests-based caller for the emulator tests (tests may use requests directly)."""

from __future__ import annotations

import time
from typing import Any

import requests


class Api:
    """Calls `/hpc` paths as one user; `as_user` adds `x-ms-as-user`."""

    def __init__(self, running: Any, who: str = "admin", as_user: str | None = None) -> None:
        self.url = running.url
        self.auth = running.admin if who == "admin" else running.user
        self.headers = {"x-ms-as-user": as_user} if as_user else {}
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.session.request(
            method, self.url + path, auth=self.auth, headers=headers, timeout=30, **kwargs
        )

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        reply = self.call(method, path, **kwargs)
        assert reply.status_code in (200, 204), f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.status_code == 200 else None

    def create_job(self, **props: str) -> int:
        return int(self.ok("POST", "/jobs", json=pairs(props)))

    def add_task(self, job_id: int, **props: str) -> int:
        return int(self.ok("POST", f"/jobs/{job_id}/tasks", json=pairs(props)))

    def job(self, job_id: int, *names: str) -> dict[str, str]:
        params = {"properties": ",".join(names)} if names else {}
        return flat(self.ok("GET", f"/jobs/{job_id}", params=params))

    def task(self, job_id: int, task_id: int, *names: str) -> dict[str, str]:
        params = {"properties": ",".join(names)} if names else {}
        return flat(self.ok("GET", f"/jobs/{job_id}/tasks/{task_id}", params=params))

    def state(self, job_id: int) -> str:
        return self.job(job_id, "State")["State"]

    def wait(self, job_id: int, *states: str, timeout: float = 15.0) -> str:
        deadline = time.time() + timeout
        state = ""
        while time.time() < deadline:
            state = self.state(job_id)
            if state in states:
                return state
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} is {state}, expected one of {states}")

    def wait_task(self, job_id: int, task_id: int, *states: str, timeout: float = 15.0) -> str:
        deadline = time.time() + timeout
        state = ""
        while time.time() < deadline:
            state = self.task(job_id, task_id, "State")["State"]
            if state in states:
                return state
            time.sleep(0.05)
        raise AssertionError(f"task {job_id}.{task_id} is {state}, expected one of {states}")


def pairs(props: dict[str, str]) -> list[dict[str, str]]:
    return [{"Name": k, "Value": v} for k, v in props.items()]


def flat(items: list[dict[str, str]]) -> dict[str, str]:
    return {p["Name"]: p["Value"] for p in items}


def rows(objects: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [flat(o["Properties"]) for o in objects]


def future(seconds: float = 3600) -> str:
    """A UTC time `seconds` from now in the head node's format (HoldUntil)."""
    when = time.gmtime(time.time() + seconds)
    hour = when.tm_hour % 12 or 12
    half = "AM" if when.tm_hour < 12 else "PM"
    clock = f"{hour}:{when.tm_min:02d}:{when.tm_sec:02d} {half}"
    return f"{when.tm_mon}/{when.tm_mday}/{when.tm_year} {clock}"
