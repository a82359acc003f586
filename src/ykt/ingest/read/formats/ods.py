"""OpenDocument spreadsheets (.ods, as LibreOffice and WPS save them), read by calamine like legacy .xls.

calamine gives an .ods sheet the same typed view as a BIFF sheet, so NUMBER cells (an ID typed as a
number has already lost its last digits) and merged ranges are asked of it the same way.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import ClassVar

from ykt.config import Settings
from ykt.ingest.read.formats.limits import check_zip_directory
from ykt.ingest.read.formats.xls import XlsFormat


class OdsFormat(XlsFormat):
    suffixes: ClassVar[tuple[str, ...]] = (".ods",)
    advertised: ClassVar[tuple[str, ...]] = (".ods",)
    # usually one big sheet: caching its typed view would only hold it longer (bench/README.md)
    parsed_once: ClassVar[bool] = False

    def check_package(self, path: Path, limits: Settings) -> None:
        budget = min(limits.max_unpacked_bytes, limits.max_ods_unpacked_bytes)
        check_zip_directory(path, dataclasses.replace(limits, max_unpacked_bytes=budget))


ODS = OdsFormat()
