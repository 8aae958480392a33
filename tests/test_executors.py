"""Executors against real parts: a webhook receiver on 127.0.0.1, files, imported functions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.action.executors import (
    ActionEnvelope,
    EntryPointExecutor,
    LogExecutor,
    Outcome,
    WebhookExecutor,
    build_executor,
    build_executors,
    classify_status,
    derive_idempotency_key,
    sign,
)
from engine.errors import ConfigError, DispatchError
from tests.servers.postgres import free_port
from tests.servers.webhook import WebhookBehaviour, WebhookReceiver

SECRET = "s3cret"


def envelope(action_id: str = "a1", **payload: str | int) -> ActionEnvelope:
    return ActionEnvelope.create(
        action_id=action_id, plan_id="p1", action_type="notify", payload=dict(payload)
    )


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(tmp_path / "hook.db", secret=SECRET) as r:
        yield r


def webhook(url: str, *, secret: str = SECRET, timeout_s: float = 5.0) -> WebhookExecutor:
    return WebhookExecutor(name="hook", url=url, secret=secret, timeout_s=timeout_s)


def test_webhook_signs_and_sends_key_and_receiver_dedupes(receiver: WebhookReceiver) -> None:
    hook = webhook(receiver.url)
    env = envelope(owner="alice")
    first = hook.execute(env)
    again = hook.execute(env)
    hook.close()
    assert (first.outcome, first.status_code) == (Outcome.SUCCEEDED, 200)
    assert (again.outcome, again.status_code) == (Outcome.SUCCEEDED, 409)
    assert "already processed" in again.detail
    seen = receiver.requests()
    assert [r.signature_ok for r in seen] == [True, True]
    assert {r.idempotency_key for r in seen} == {env.idempotency_key}
    assert {r.action_id for r in seen} == {"a1"}
    assert json.loads(seen[0].body)["payload"] == {"owner": "alice"}
    assert receiver.applied() == {env.idempotency_key: "a1"}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(500, Outcome.RETRYABLE), (503, Outcome.RETRYABLE), (429, Outcome.RETRYABLE),
     (400, Outcome.PERMANENT), (404, Outcome.PERMANENT), (422, Outcome.PERMANENT)],
)
def test_webhook_maps_receiver_status(
    receiver: WebhookReceiver, status: int, outcome: Outcome
) -> None:
    receiver.behaviour = WebhookBehaviour(status=status)
    hook = webhook(receiver.url)
    result = hook.execute(envelope())
    hook.close()
    assert (result.outcome, result.status_code) == (outcome, status)
    assert receiver.applied() == {}


def test_wrong_secret_is_refused_by_receiver_as_permanent(receiver: WebhookReceiver) -> None:
    hook = webhook(receiver.url, secret="not the secret")
    result = hook.execute(envelope())
    hook.close()
    assert (result.outcome, result.status_code) == (Outcome.PERMANENT, 401)
    assert [r.signature_ok for r in receiver.requests()] == [False]


def test_hanging_webhook_times_out_as_retryable(receiver: WebhookReceiver) -> None:
    receiver.behaviour = WebhookBehaviour(delay_s=5.0)
    hook = webhook(receiver.url, timeout_s=0.3)
    result = hook.execute(envelope())
    hook.close()
    assert result.outcome is Outcome.RETRYABLE
    assert "timed out after 0.3s" in result.detail


def test_unreachable_webhook_is_retryable() -> None:
    hook = webhook(f"http://127.0.0.1:{free_port()}/hook", timeout_s=1.0)
    result = hook.execute(envelope())
    hook.close()
    assert result.outcome is Outcome.RETRYABLE and "cannot reach" in result.detail


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, Outcome.SUCCEEDED), (204, Outcome.SUCCEEDED), (409, Outcome.SUCCEEDED),
     (301, Outcome.PERMANENT), (401, Outcome.PERMANENT), (408, Outcome.RETRYABLE),
     (429, Outcome.RETRYABLE), (500, Outcome.RETRYABLE), (599, Outcome.RETRYABLE)],
)
def test_classify_status(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


def test_sign_matches_rfc4231_vector() -> None:
    digest = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(b"what do ya want for nothing?", "Jefe") == f"sha256={digest}"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8,
)


@given(payload=st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_body_is_canonical_and_round_trips(payload: dict[str, object]) -> None:
    env = ActionEnvelope.create(action_id="a", action_type="t", payload=payload)  # type: ignore[arg-type]
    shuffled = ActionEnvelope.create(
        action_id="a", action_type="t", payload=dict(reversed(list(payload.items())))  # type: ignore[arg-type]
    )
    assert env.body() == shuffled.body()
    decoded = json.loads(env.body())
    assert decoded["payload"] == payload and decoded["idempotency_key"] == env.idempotency_key
    assert b" " not in env.body().replace(b'" "', b"").split(b'"payload"')[0]


def test_idempotency_key_is_stable_and_scoped_by_plan() -> None:
    assert derive_idempotency_key("p", "a") == derive_idempotency_key("p", "a")
    assert derive_idempotency_key("p", "a") != derive_idempotency_key("q", "a")
    assert derive_idempotency_key(None, "a") != derive_idempotency_key("p", "a")
    assert envelope().idempotency_key == derive_idempotency_key("p1", "a1")


@pytest.mark.parametrize(
    "fields",
    [
        {"action_id": "a", "after": ("a",)},
        {"action_id": "a", "after": ("b", "b")},
        {"action_id": ""},
        {"action_id": "a b"},
        {"action_type": "9bad"},
        {"idempotency_key": "short"},
        {"surprise": 1},
    ],
)
def test_bad_envelopes_are_rejected(fields: dict[str, object]) -> None:
    base: dict[str, object] = {
        "action_id": "a", "plan_id": None, "action_type": "notify", "payload": {},
        "idempotency_key": "0" * 64, "after": (),
    }
    with pytest.raises(pydantic.ValidationError):
        ActionEnvelope.model_validate({**base, **fields})


def test_log_executor_writes_each_key_once_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "out" / "actions.jsonl"
    first = LogExecutor(name="log", path=path)
    assert first.execute(envelope("a1")).outcome is Outcome.SUCCEEDED
    assert first.execute(envelope("a1")).detail == "already logged"
    with path.open("a") as out:
        out.write('{"torn": ')  # a crash mid-line
    second = LogExecutor(name="log", path=path)
    assert second.execute(envelope("a1")).detail == "already logged"
    assert second.execute(envelope("a2")).outcome is Outcome.SUCCEEDED
    keys = [json.loads(line)["action_id"] for line in path.read_text().splitlines()
            if line.endswith("}")]
    assert keys == ["a1", "a2"]


def test_log_executor_without_file_and_with_unwritable_file(tmp_path: Path) -> None:
    assert LogExecutor(name="log").execute(envelope()).outcome is Outcome.SUCCEEDED
    blocked = LogExecutor(name="log", path=tmp_path)  # a directory cannot be appended to
    assert blocked.execute(envelope()).outcome is Outcome.RETRYABLE


@pytest.mark.parametrize(
    ("function", "outcome", "detail"),
    [
        ("raise_value_error", Outcome.RETRYABLE, "ValueError: cannot handle a1"),
        ("refuse", Outcome.PERMANENT, "action `a1` is refused"),
        ("busy", Outcome.RETRYABLE, "busy"),
        ("wrong_return", Outcome.PERMANENT, "entry point returned `int`"),
    ],
)
def test_entry_point_outcomes(function: str, outcome: Outcome, detail: str) -> None:
    entry_point = f"tests.helpers.dispatch_worker:{function}"
    executor = EntryPointExecutor(name="py", entry_point=entry_point)
    result = executor.execute(envelope())
    assert (result.outcome, result.detail) == (outcome, detail)


def test_entry_point_calls_the_function(tmp_path: Path) -> None:
    out = tmp_path / "calls.txt"
    executor = EntryPointExecutor(
        name="py", entry_point="tests.helpers.dispatch_worker:append_to_file"
    )
    env = envelope(path=str(out))
    assert executor.execute(env).outcome is Outcome.SUCCEEDED
    assert out.read_text() == env.idempotency_key + "\n"


@pytest.mark.parametrize(
    ("entry_point", "message"),
    [
        ("no_such_package.mod:fn", "module `no_such_package.mod` not found"),
        ("tests.helpers.dispatch_worker:missing", "`missing` is not a function"),
        ("tests.helpers.dispatch_worker:NOT_A_FUNCTION", "`NOT_A_FUNCTION` is not a function"),
    ],
)
def test_missing_entry_point_is_a_dispatch_error(entry_point: str, message: str) -> None:
    executor = EntryPointExecutor(name="py", entry_point=entry_point)
    with pytest.raises(DispatchError) as info:
        executor.execute(envelope())
    assert message in info.value.message and info.value.code == "dispatch_error"


@pytest.mark.parametrize("entry_point", ["nocolon", "a.b:", ":fn", "a b:c", "a:b:c"])
def test_malformed_entry_point_is_a_config_error(entry_point: str) -> None:
    with pytest.raises(ConfigError):
        EntryPointExecutor(name="py", entry_point=entry_point)


def test_build_executors_from_config(tmp_path: Path) -> None:
    built = build_executors(
        {
            "notify": {"type": "webhook", "url": "http://127.0.0.1:9/h",
                       "secret": "${HOOK_SECRET}", "timeout_s": 2},
            "record": {"type": "log", "path": str(tmp_path / "a.jsonl")},
            "revoke": {"type": "python", "entry_point": "tests.helpers.dispatch_worker:busy"},
        },
        env={"HOOK_SECRET": "from-env"},
    )
    hook = built["notify"]
    assert isinstance(hook, WebhookExecutor) and hook.timeout_s == 2.0
    assert hook._secret == "from-env"
    assert isinstance(built["record"], LogExecutor)
    assert isinstance(built["revoke"], EntryPointExecutor)
    assert [e.name for e in built.values()] == ["notify", "record", "revoke"]
    hook.close()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"type": "smtp"}, "executors.x.type"),
        ({}, "executors.x.type"),
        ({"type": "webhook", "secret": "s"}, "executors.x.url"),
        ({"type": "webhook", "url": "http://h/", "secret": "${NOPE}"}, "executors.x.secret"),
        ({"type": "webhook", "url": "ftp://h/", "secret": "s"}, "executors.x.url"),
        ({"type": "webhook", "url": "http://h/", "secret": ""}, "executors.x.secret"),
        ({"type": "webhook", "url": "http://h/", "secret": "s", "timeout_s": "5"},
         "executors.x.timeout_s"),
        ({"type": "webhook", "url": "http://h/", "secret": "s", "timeout_s": 0},
         "executors.x.timeout_s"),
        ({"type": "log", "path": 3}, "executors.x.path"),
        ({"type": "log", "colour": "red"}, "executors.x.colour"),
        ({"type": "python"}, "executors.x.entry_point"),
    ],
)
def test_bad_executor_config_names_the_field(config: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_executor("x", config, env={})
    assert info.value.location is not None and info.value.location.field == field


def test_executor_section_entry_must_be_a_table() -> None:
    with pytest.raises(ConfigError):
        build_executors({"x": "webhook"}, env={})
