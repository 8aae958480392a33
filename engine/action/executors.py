"""Executors: the boundary where an action leaves Warrant (webhook, log line, Python call).

An executor gets an :class:`ActionEnvelope` and answers with an :class:`ExecutionResult`:
``succeeded``, ``retryable`` (try again later: 5xx, timeout, connection refused) or
``permanent`` (never retry: a 4xx, a refused payload). Delivery is at least once: after a
crash the same envelope, with the same idempotency key, may be sent again, so a receiver must
dedupe on ``Idempotency-Key``; the webhook treats ``409`` as "already processed" (success).

Executors are configured per action type in ``warrant.toml``::

    [executors.notify_owner]
    type = "webhook"              # webhook | log | python
    url = "https://hooks.example.org/warrant"
    secret = "${WARRANT_HOOK_SECRET}"
    timeout_s = 5

    [executors.record]
    type = "log"
    path = "var/actions.jsonl"

    [executors.revoke_access]
    type = "python"
    entry_point = "mycompany.iam:revoke"
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from engine.action.audit import canonical_json
from engine.errors import ConfigError, DispatchError, Location

log = logging.getLogger("warrant.dispatch")

SIGNATURE_HEADER = "X-Warrant-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ACTION_HEADER = "X-Warrant-Action"

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def derive_idempotency_key(plan_id: str | None, action_id: str) -> str:
    """The key every attempt of an action carries: sha256 of plan id and action id."""
    return hashlib.sha256(f"{plan_id or ''}\x1f{action_id}".encode()).hexdigest()


class ActionEnvelope(BaseModel):
    """One action to dispatch: what to do, for which plan, after which other steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action_id: str = Field(pattern=_ID_PATTERN)
    plan_id: str | None = Field(default=None, pattern=_ID_PATTERN)
    action_type: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,199}$")
    payload: dict[str, JsonValue]
    idempotency_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    after: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_after(self) -> ActionEnvelope:
        if self.action_id in self.after:
            raise ValueError(f"action `{self.action_id}` cannot come after itself")
        if len(set(self.after)) != len(self.after):
            raise ValueError("`after` lists a step twice")
        return self

    @classmethod
    def create(
        cls,
        *,
        action_id: str,
        action_type: str,
        payload: Mapping[str, JsonValue],
        plan_id: str | None = None,
        after: tuple[str, ...] = (),
    ) -> ActionEnvelope:
        """An envelope whose idempotency key is derived from plan and action id."""
        return cls(
            action_id=action_id,
            plan_id=plan_id,
            action_type=action_type,
            payload=dict(payload),
            idempotency_key=derive_idempotency_key(plan_id, action_id),
            after=after,
        )

    def body(self) -> bytes:
        """The canonical JSON bytes sent to receivers (and signed)."""
        return canonical_json(
            {
                "action_id": self.action_id,
                "action_type": self.action_type,
                "idempotency_key": self.idempotency_key,
                "payload": self.payload,
                "plan_id": self.plan_id,
            }
        ).encode("utf-8")


class Outcome(StrEnum):
    """How one execution ended."""

    SUCCEEDED = "succeeded"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class ExecutionResult:
    """What an executor reports for one attempt."""

    outcome: Outcome
    detail: str = ""
    status_code: int | None = None


class Executor(Protocol):
    """Carries an action out; ``name`` keys its circuit breaker."""

    @property
    def name(self) -> str:
        """The executor's configured name."""
        ...

    def execute(self, envelope: ActionEnvelope) -> ExecutionResult:
        """Perform the action once; expected failures are results, not exceptions."""
        ...

    def close(self) -> None:
        """Release connections or files the executor holds."""
        ...


def sign(body: bytes, secret: str) -> str:
    """The ``X-Warrant-Signature`` value: ``sha256=<hex HMAC-SHA256 of body>``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def classify_status(status: int) -> Outcome:
    """2xx and 409 succeed; 408, 429 and 5xx are retried; anything else is permanent."""
    if 200 <= status < 300 or status == 409:
        return Outcome.SUCCEEDED
    if status in (408, 429) or status >= 500:
        return Outcome.RETRYABLE
    return Outcome.PERMANENT


class WebhookExecutor:
    """POSTs the envelope as signed canonical JSON to a URL."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        secret: str,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook url `{url}` is not http(s)", location=Location(field="url"))
        if not secret:
            raise ConfigError(
                f"webhook `{name}` has an empty secret", location=Location(field="secret")
            )
        if timeout_s <= 0:
            raise ConfigError(
                "webhook timeout must be positive", location=Location(field="timeout_s")
            )
        self._name = name
        self.url = url
        self.timeout_s = timeout_s
        self._secret = secret
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), transport=transport, follow_redirects=False
        )

    @property
    def name(self) -> str:
        """The executor's configured name."""
        return self._name

    def execute(self, envelope: ActionEnvelope) -> ExecutionResult:
        """Send once; map the HTTP status (or the transport failure) to an outcome."""
        body = envelope.body()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, self._secret),
            IDEMPOTENCY_HEADER: envelope.idempotency_key,
            ACTION_HEADER: envelope.action_id,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return ExecutionResult(Outcome.RETRYABLE, f"timed out after {self.timeout_s:g}s")
        except httpx.TransportError as exc:
            return ExecutionResult(Outcome.RETRYABLE, f"cannot reach `{self.url}`: {exc}")
        outcome = classify_status(response.status_code)
        detail = f"http {response.status_code}"
        if response.status_code == 409:
            detail += " (already processed)"
        return ExecutionResult(outcome, detail, response.status_code)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()


class LogExecutor:
    """Writes each action as one JSON line (and to the ``warrant.dispatch`` logger).

    With a file, lines already written are remembered by idempotency key, so a resend after a
    crash does not write a second line.
    """

    def __init__(self, *, name: str, path: Path | None = None) -> None:
        self._name = name
        self.path = path
        self._seen: set[str] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The executor's configured name."""
        return self._name

    def execute(self, envelope: ActionEnvelope) -> ExecutionResult:
        """Log the envelope once per idempotency key."""
        line = envelope.body().decode("utf-8")
        log.info("dispatch %s", line)
        if self.path is None:
            return ExecutionResult(Outcome.SUCCEEDED, "logged")
        with self._lock:
            try:
                seen = self._load_seen()
                if envelope.idempotency_key in seen:
                    return ExecutionResult(Outcome.SUCCEEDED, "already logged")
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("ab") as out:
                    if out.tell() > 0 and not _ends_with_newline(self.path):
                        out.write(b"\n")  # end a line torn by a crash; it is skipped on load
                    out.write(line.encode("utf-8") + b"\n")
                    out.flush()
            except OSError as exc:
                return ExecutionResult(Outcome.RETRYABLE, f"cannot write `{self.path}`: {exc}")
            seen.add(envelope.idempotency_key)
        return ExecutionResult(Outcome.SUCCEEDED, f"logged to {self.path}")

    def close(self) -> None:
        """Nothing to release: the file is opened per write."""

    def _load_seen(self) -> set[str]:
        if self._seen is None:
            seen: set[str] = set()
            if self.path is not None and self.path.exists():
                for raw in self.path.read_text(encoding="utf-8").splitlines():
                    try:
                        seen.add(str(json.loads(raw)["idempotency_key"]))
                    except (ValueError, KeyError, TypeError):
                        continue  # a torn last line from a crash: not a record
            self._seen = seen
        return self._seen


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(-1, 2)
        return f.read(1) == b"\n"


EntryPoint = Callable[[ActionEnvelope], "ExecutionResult | None"]


class EntryPointExecutor:
    """Calls a Python function named ``package.module:function`` with the envelope.

    The function returns None (success) or an :class:`ExecutionResult`. If it raises
    :class:`DispatchError` the action fails permanently; any other exception is retried.
    """

    def __init__(self, *, name: str, entry_point: str) -> None:
        if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*", entry_point):
            raise ConfigError(
                f"entry point `{entry_point}` is not `package.module:function`",
                location=Location(field="entry_point"),
            )
        self._name = name
        self.entry_point = entry_point
        self._function: EntryPoint | None = None

    @property
    def name(self) -> str:
        """The executor's configured name."""
        return self._name

    def resolve(self) -> EntryPoint:
        """Import the function (once); a missing module or name is a DispatchError."""
        if self._function is None:
            module_name, attr = self.entry_point.split(":")
            where = Location(field="entry_point")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise DispatchError(
                    f"entry point `{self.entry_point}`: module `{module_name}` not found",
                    location=where,
                ) from exc
            function = getattr(module, attr, None)
            if not callable(function):
                raise DispatchError(
                    f"entry point `{self.entry_point}`: `{attr}` is not a function",
                    location=where,
                )
            self._function = function
        return self._function

    def execute(self, envelope: ActionEnvelope) -> ExecutionResult:
        """Call the function; map its return value or exception to an outcome."""
        function = self.resolve()
        try:
            result = function(envelope)
        except DispatchError as exc:
            return ExecutionResult(Outcome.PERMANENT, exc.message)
        except Exception as exc:
            return ExecutionResult(Outcome.RETRYABLE, f"{type(exc).__name__}: {exc}")
        if result is None:
            return ExecutionResult(Outcome.SUCCEEDED, "returned")
        if not isinstance(result, ExecutionResult):
            return ExecutionResult(
                Outcome.PERMANENT, f"entry point returned `{type(result).__name__}`"
            )
        return result

    def close(self) -> None:
        """Nothing to release."""




def _expand(value: str, env: Mapping[str, str], field: str) -> str:
    def replace(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in env:
            raise ConfigError(
                f"environment variable `{var}` is not set", location=Location(field=field)
            )
        return env[var]

    return _ENV_REF.sub(replace, value)


def _get(config: Mapping[str, object], key: str, kind: type, name: str) -> object:
    value = config.get(key)
    if value is None:
        raise ConfigError(
            f"executor `{name}` needs `{key}`", location=Location(field=f"executors.{name}.{key}")
        )
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind):
        raise ConfigError(
            f"executor `{name}`: `{key}` must be a {kind.__name__}",
            location=Location(field=f"executors.{name}.{key}"),
        )
    return value


def build_executor(
    name: str, config: Mapping[str, object], *, env: Mapping[str, str]
) -> WebhookExecutor | LogExecutor | EntryPointExecutor:
    """One executor from its ``[executors.<name>]`` table; ``${VAR}`` reads ``env``."""
    kind = config.get("type")
    known = {"webhook", "log", "python"}
    allowed = {
        "webhook": {"type", "url", "secret", "timeout_s"},
        "log": {"type", "path"},
        "python": {"type", "entry_point"},
    }
    if kind not in known:
        raise ConfigError(
            f"executor `{name}` has unknown type `{kind}`: use webhook, log or python",
            location=Location(field=f"executors.{name}.type"),
        )
    assert isinstance(kind, str)
    unknown = sorted(set(config) - allowed[kind])
    if unknown:
        raise ConfigError(
            f"executor `{name}` has unknown key `{unknown[0]}`",
            location=Location(field=f"executors.{name}.{unknown[0]}"),
        )
    if kind == "webhook":
        url = _expand(str(_get(config, "url", str, name)), env, f"executors.{name}.url")
        secret = _expand(str(_get(config, "secret", str, name)), env, f"executors.{name}.secret")
        timeout = _get(config, "timeout_s", float, name) if "timeout_s" in config else 10.0
        assert isinstance(timeout, float)
        try:
            return WebhookExecutor(name=name, url=url, secret=secret, timeout_s=timeout)
        except ConfigError as exc:
            field = exc.location.field if exc.location else None
            raise ConfigError(
                exc.message, location=Location(field=f"executors.{name}.{field}")
            ) from exc
    if kind == "log":
        raw_path = config.get("path")
        if raw_path is not None and not isinstance(raw_path, str):
            raise ConfigError(
                f"executor `{name}`: `path` must be a str",
                location=Location(field=f"executors.{name}.path"),
            )
        path = Path(_expand(raw_path, env, f"executors.{name}.path")) if raw_path else None
        return LogExecutor(name=name, path=path)
    entry = str(_get(config, "entry_point", str, name))
    return EntryPointExecutor(name=name, entry_point=entry)


def build_executors(
    section: Mapping[str, object], *, env: Mapping[str, str]
) -> dict[str, WebhookExecutor | LogExecutor | EntryPointExecutor]:
    """Executors keyed by action type from the ``[executors]`` section of ``warrant.toml``."""
    built: dict[str, WebhookExecutor | LogExecutor | EntryPointExecutor] = {}
    for name, table in sorted(section.items()):
        if not isinstance(table, Mapping):
            raise ConfigError(
                f"executor `{name}` must be a table", location=Location(field=f"executors.{name}")
            )
        built[name] = build_executor(name, table, env=env)
    return built
