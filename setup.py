"""Package discovery for the code under src/, plus the design card's top-level folders installed inside
the package (each maps one folder to one package; pyproject.toml cannot combine discovery with a mapping)."""

from setuptools import find_packages, setup

TOP_LEVEL_PACKAGES = {
    "ykt.rules": "rules",
    "ykt.rules.province": "rules/province",
    "ykt.schemas": "schemas",
    "ykt.reports": "reports",
    "ykt.flows": "flows",
    "ykt.sample_data": "sample_data",
}

setup(
    packages=[*find_packages("src"), *TOP_LEVEL_PACKAGES],
    package_dir={"": "src", **TOP_LEVEL_PACKAGES},
)
