"""Users and roles: Basic auth, x-ms-as-user for administrators only, owners' rights."""

from __future__ import annotations

from tests.emulator.helpers import Api


def test_admin_acts_as_another_user_who_then_owns_the_job(emulator):
    as_bob = Api(emulator, "admin", as_user="HPC\\bob")
    job = as_bob.create_job(Name="bobs")
    assert Api(emulator).job(job, "Owner") == {"Owner": "HPC\\bob"}


def test_plain_users_may_not_use_x_ms_as_user(emulator):
    reply = Api(emulator, "user", as_user="HPC\\admin").call("GET", "/jobs")
    assert reply.status_code == 403
    assert reply.json()["Message"].startswith("Permission denied.")


def test_a_user_cannot_cancel_another_users_job(emulator):
    job = Api(emulator).create_job(Name="admins")
    reply = Api(emulator, "user").call("POST", f"/jobs/{job}/cancel", json="")
    assert reply.status_code == 403
    impersonated = Api(emulator, "admin", as_user="HPC\\carol")
    assert impersonated.call("POST", f"/jobs/{job}/cancel", json="").status_code == 403
    assert Api(emulator).state(job) == "Configuring"


def test_an_administrator_may_cancel_anyones_job(emulator):
    job = Api(emulator, "user").create_job()
    assert Api(emulator).call("POST", f"/jobs/{job}/cancel", json="").status_code == 204


def test_user_name_without_domain_is_accepted(emulator):
    name, password = emulator.user
    reply = Api(emulator).session.get(
        f"{emulator.url}/cluster/version", auth=(name.split("\\")[1], password)
    )
    assert reply.status_code == 200 and reply.json() == "5.3.6435.0"
