"""Every exception odek raises on purpose, in one place.

The hierarchy decides the command line's exit code: an :class:`InputError` means the
user gave something wrong (exit 2); any other :class:`OdekError` is a failure at run
time (exit 1). Each message says what was wrong and where (file, field, line or item).
"""

from __future__ import annotations


class OdekError(Exception):
    """Base class of every error odek raises deliberately."""


class InputError(OdekError):
    """Raised when input from the user (a flag, an expression, a file) is invalid."""


class UsageError(InputError):
    """Raised when a command is called with missing, extra or unknown arguments."""


class CronError(InputError, ValueError):
    """Raised when a cron expression cannot be parsed.

    ``field`` names the field at fault (``"minute"``, ``"day-of-week"``, ...) or is
    ``None`` when the expression as a whole is wrong (empty, wrong field count, unknown
    macro); ``item`` is the comma-separated item that failed, when there is one.
    """

    def __init__(
        self, message: str, *, expr: str, field: str | None = None, item: str | None = None
    ) -> None:
        super().__init__(message)
        self.expr = expr
        self.field = field
        self.item = item


class CronNeverFiresError(CronError):
    """Raised when a well-formed expression names no date that exists (``0 0 30 2 *``).

    The verdict depends only on the expression, never on the current date.
    """


class UnknownTimeZoneError(InputError, ValueError):
    """Raised when a time zone name is not a known IANA zone."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown time zone {name!r} (expected an IANA name such as Europe/Berlin)"
        )
        self.name = name


class JobValidationError(InputError):
    """Raised when a job is refused before it is written: empty task, bad cron, never-firing
    cron, bad zone or bad delivery. ``job`` is the job's id or name, ``field`` the field."""

    def __init__(self, message: str, *, job: str, field: str) -> None:
        super().__init__(message)
        self.job = job
        self.field = field


class JobNotFoundError(InputError, LookupError):
    """Raised when a job id names no job in the store."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f'no job with ID "{job_id}"')
        self.job_id = job_id


class StoreCorruptError(InputError):
    """Raised when a store file exists but is not valid: bad JSON, a wrong type, a wrong
    version. The message names the file, the position (line and column) and the field."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class StoreError(OdekError):
    """Raised when a store file cannot be read, written or locked (permissions, a full disk,
    a directory where a file should be), or when a write would make a file larger than the
    store reads back. ``path`` is the file concerned; the old file is left as it was."""

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class ConfigError(InputError):
    """Raised when a configuration value is invalid; the message names its source (file and
    field, or environment variable) and what is expected."""


class LockHeldError(OdekError):
    """Raised when another process holds a lock that must be exclusive (the scheduler lock)."""

    def __init__(self, message: str, *, pid: int | None = None) -> None:
        super().__init__(message)
        self.pid = pid


class RunError(OdekError):
    """Raised by a runner when an agent run fails (the model errs, too many rounds, a tool
    set cannot be built). The message is already redacted."""


class BudgetExhaustedError(RunError):
    """Raised before a run starts when ``telegram.daily_token_budget`` is spent for the day."""


class LLMError(RunError):
    """Raised when the model endpoint answers with an error or cannot be reached after the
    retries. ``status`` is the HTTP status, or ``None`` for a connection failure."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DeliveryError(OdekError):
    """Raised by a deliverer when a result could not be delivered. ``permanent`` is true when
    retrying cannot help (chat not found, bot blocked, bad request)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class TelegramFatalError(OdekError):
    """Raised by the Telegram bot when polling cannot go on and retrying would only hide
    it: the Bot API refused the token (401: wrong or revoked) or another process is
    polling the same token (409). The bot stops with this error instead of retrying."""


class HealthEndpointError(OdekError):
    """Raised when the health and metrics endpoint cannot listen on ``schedules.http_addr``
    (the port is taken, the host is not an address of this machine, a privileged port)."""
