"""The web desk (`ykt web`): clerks upload and follow their county's night, inspectors read its cases,
each seeing only the counties their account is bound to. The only package that serves HTTP."""

from ykt.web.accounts import ROLES, add_user, disable_user, portal_path, set_password
from ykt.web.app import WebSettings, create_app, serve

__all__ = [
    "ROLES",
    "WebSettings",
    "add_user",
    "create_app",
    "disable_user",
    "portal_path",
    "serve",
    "set_password",
]
