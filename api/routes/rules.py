"""``/v1/rules``: reload and check the rules (role ``author``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.action_models import RuleMessageV1, RulesCheckV1, RulesReloadV1
from api.auth import require_roles
from api.routes.context import actor_of, errors, service
from engine.principals import Principal, Role
from engine.service import WarrantService

router = APIRouter(tags=["rules"])

Author = Annotated[Principal, Depends(require_roles(Role.AUTHOR))]
Service = Annotated[WarrantService, Depends(service)]


@router.post("/v1/rules/reload", response_model=RulesReloadV1, responses=errors(400))
def reload_rules(principal: Author, svc: Service) -> RulesReloadV1:
    """Re-read the rule files; a 400 naming file:line if they do not check (old rules stay)."""
    done = svc.reload_rules(actor=actor_of(principal))
    return RulesReloadV1(before=done.before, after=done.after, rules=done.rules,
                         changed=done.before != done.after)


@router.get("/v1/rules/check", response_model=RulesCheckV1, responses=errors())
def check_rules(_principal: Author, svc: Service) -> RulesCheckV1:
    """Every located message about the rules on disk."""
    messages = svc.check_rules()
    return RulesCheckV1(
        ok=not any(m.severity == "error" for m in messages),
        messages=[RuleMessageV1(severity=m.severity, code=m.code, location=str(m.location),
                                message=m.message) for m in messages],
    )
