"""Package discovery for the code under src/, plus the design card's top-level folders installed inside
the package (each maps one folder to one package; pyproject.toml cannot combine discovery with a mapping)."""

from setuptools import find_namespace_packages, setup

TOP_LEVEL_PACKAGES = {
    "ykt.rules": "rules",
    "ykt.rules.province": "rules/province",
    "ykt.schemas": "schemas",
    "ykt.reports": "reports",
    "ykt.flows": "flows",
    "ykt.sample_data": "sample_data",
}

setup(
    # namespace discovery: data-only folders inside the package (ykt.web.templates, ykt.web.static) are
    # packages too, so their files ship without setuptools' "package would be ignored" warning
    packages=[
        *find_namespace_packages("src", include=["ykt*"], exclude=["*.__pycache__"]),
        *TOP_LEVEL_PACKAGES,
    ],
    package_dir={"": "src", **TOP_LEVEL_PACKAGES},
)
