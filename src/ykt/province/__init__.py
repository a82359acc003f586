"""Many counties, one province: each county's night on its own warehouse (fanned out by the caller's engine),
each county's export to a Hive-partitioned Parquet lake, and the province rules over it (cross-county
duplicates, public employees and deaths), routed as clues to the province's department and 纪委监委."""

from ykt.province.county import CountyJob, CountyOutcome, run_county
from ykt.province.model import PROVINCE_CLUE_FIELDS, ProvinceReport, worst_exit_code
from ykt.province.render import PROVINCE_OUTPUTS
from ykt.province.rules import ProvinceRule, load_province_rules
from ykt.province.run import (
    FanOut,
    ProvinceResult,
    check_province_config,
    county_jobs,
    plain_fan_out,
    province_layer,
    run_province,
)

__all__ = [
    "PROVINCE_CLUE_FIELDS",
    "PROVINCE_OUTPUTS",
    "CountyJob",
    "CountyOutcome",
    "FanOut",
    "ProvinceReport",
    "ProvinceResult",
    "ProvinceRule",
    "check_province_config",
    "county_jobs",
    "load_province_rules",
    "plain_fan_out",
    "province_layer",
    "run_county",
    "run_province",
    "worst_exit_code",
]
