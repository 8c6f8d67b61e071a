"""Operators told of every failed or crashed run, without code: ``[operators] notify`` in lapak.toml.

``lapak serve`` keeps one Prefect automation per configuration file (:func:`keep_failure_automation`):
on ``prefect.flow-run.Failed`` or ``prefect.flow-run.Crashed`` of any run tagged ``lapak`` (every
Lapak run carries the tag, however it was started), send a notification through the named block.
It is created or replaced at every start, and deleted when the setting is removed. Only public
Prefect APIs: the block is found by its type slug and name through the client.

The block types people use, by slug (create one under **Blocks ▸ +**):
:data:`BLOCK_TYPES`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.serve import config_digest
from schemas.errors import LapakError

BLOCK_TYPES = {
    "slack-webhook": "Slack (an incoming webhook URL)",
    "ms-teams-webhook": "Microsoft Teams (a workflow webhook URL)",
    "sendgrid-email": "email through SendGrid (an API key and the addresses)",
    "custom-webhook": "any HTTP endpoint (a chat bot, WhatsApp gateway, your own receiver)",
    "discord-webhook": "Discord",
    "mattermost-webhook": "Mattermost",
    "pager-duty-webhook": "PagerDuty",
    "twilio-sms": "SMS through Twilio",
    "opsgenie-webhook": "Opsgenie",
}
SUBJECT = "Lapak Desa: {{ flow_run.name }} {{ flow_run.state.name }}"
BODY = "{{ flow_run.name }}: {{ flow_run.state.message }}\n{{ flow_run|ui_url }}"


def failure_automation_name(config_path: str | Path) -> str:
    """Stable for one configuration file: a restart replaces its automation, another file keeps its own."""
    return f"lapak-run-failed-{config_digest(config_path)}"


def _block_id(client: Any, block: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    type_slug, _, name = block.partition("/")
    try:
        return client.read_block_document_by_name(name=name, block_type_slug=type_slug).id
    except ObjectNotFound:
        kinds = ", ".join(BLOCK_TYPES)
        raise LapakError(f"[operators] notify = {block!r}: the Prefect server has no {type_slug!r} block named "
                         f"{name!r}; create it under Blocks ▸ + (types: {kinds}) or fix the name") from None


def keep_failure_automation(config_path: str | Path, block: str) -> str | None:
    """Create or replace this configuration's failure automation (delete it when ``block`` is "").
    Returns the automation's name, or None when there is none."""
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

    name = failure_automation_name(config_path)
    with get_client(sync_client=True) as client:
        block_id = _block_id(client, block) if block else None  # a wrong name stops before anything changes
        for old in client.read_automations_by_name(name):
            client.delete_automation(old.id)
        if block_id is None:
            return None
        client.create_automation(AutomationCore(
            name=name,
            description=f"A Lapak Desa run failed or crashed ({Path(config_path).resolve()}); told to {block}. "
                        "Kept by lapak serve from [operators] notify.",
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "tag", "prefect.resource.id": "prefect.tag.lapak"},
                posture=Posture.Reactive, threshold=1),
            actions=[SendNotification(block_document_id=block_id, subject=SUBJECT, body=BODY)],
        ))
    return name
