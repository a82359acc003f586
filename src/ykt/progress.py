"""What the command shows while a night works, from the package's own log records ("ykt" loggers).

The pipeline logs each step's start and its counts, and each inbox file as it is read (with its size);
on a terminal one live line (rich) shows the latest of them with the time spent, warnings are printed
above it; written to a pipe or a file (cron, a scheduler), nothing is shown unless asked: `--verbose`
prints every record of the package to stderr, `--log-file PATH` appends them to a file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler
from rich.status import Status

from ykt.errors import UsageError

LOGGER = "ykt"
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class ProgressLine(logging.Handler):
    """One live line on the terminal: the latest step or file, and the seconds since the night started."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.INFO)
        self.console = console
        self.started = time.monotonic()
        self.status: Status | None = None

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            self.console.print(f"[yellow]{message}[/]", highlight=False)
            return
        text = f"{message}  [dim]{time.monotonic() - self.started:.0f} 秒[/]"
        if self.status is None:
            self.status = self.console.status(text)
            self.status.start()
        else:
            self.status.update(text)

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
        super().close()


@contextmanager
def show_progress(
    verbose: bool = False, log_file: Path | None = None, *, live: bool = True
) -> Iterator[None]:
    """Attach the handlers the flags ask for to the "ykt" logger for the duration of a command; `live=False`
    never draws the progress line (a flow inside `ykt run`, whose command already draws one)."""
    logger = logging.getLogger(LOGGER)
    console = Console(stderr=True)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        handlers.append(_file_handler(log_file))
    if verbose:
        handlers.append(RichHandler(console=console, show_path=False, level=logging.DEBUG))
    elif live and console.is_terminal:
        handlers.append(ProgressLine(console))
    level = logger.level
    if handlers:
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    with ExitStack() as stack:
        for handler in handlers:
            logger.addHandler(handler)
            stack.callback(handler.close)
            stack.callback(logger.removeHandler, handler)
        try:
            yield
        finally:
            logger.setLevel(level)


def _file_handler(path: Path) -> logging.Handler:
    try:
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"日志文件无法写入：{exc.strerror or exc}",
            where=f"--log-file {path}",
            hint="指定一个可写的文件路径",
        ) from None
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    handler.setLevel(logging.DEBUG)
    return handler
