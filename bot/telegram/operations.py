"""What running the bot in production adds to an application: the daily backup job, and in
webhook mode with HEALTH_PORT the probe that keeps ``/healthz`` honest when no one writes
(the health server itself is started by the runner, before Telegram is reached).
:func:`register` wires it in; ``bot.app.build_application`` calls it. Each part is off unless
its setting is given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application

from bot.telegram.backups import BackupJob
from bot.telegram.health import WebhookProbe

if TYPE_CHECKING:
    from bot.telegram.runtime import Runtime


def register(app: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime) -> None:
    settings = runtime.settings
    if settings.backup_dir is not None:
        job = BackupJob(
            lambda: runtime.storage,
            settings.database_path,
            settings.backup_dir,
            settings.backup_keep,
        )
        runtime.jobs["backup"] = job.daily
    if settings.health_port is not None and settings.webhook_mode:
        # An idle webhook bot hears nothing; Telegram's view of the webhook tells it is fine.
        runtime.jobs["webhook-probe"] = WebhookProbe(app.bot, settings, runtime.metrics).run
