"""accounts/sso.py and accounts/sso_views.py replace mozilla-django-oidc's __init__ methods (so
that no endpoint is looked up before it is used) and set the attributes its other methods read.
If an upgrade reads another attribute, or another setting, this fails before a log-in does."""

import ast
import inspect
import textwrap

from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from accounts.sso import OIDCBackend
from accounts.sso_views import SSOStart


def attributes_set_by(function: object) -> set[str]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))  # type: ignore[arg-type]
    return {
        target.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id == "self"
    }


def provided_by(cls: type) -> set[str]:
    properties = {name for name, value in vars(cls).items() if isinstance(value, property)}
    return attributes_set_by(cls.__init__) | properties


def test_the_backend_has_every_attribute_the_librarys_init_would_set() -> None:
    assert attributes_set_by(OIDCAuthenticationBackend.__init__) == provided_by(OIDCBackend)


def test_the_start_view_has_every_attribute_the_librarys_init_would_set() -> None:
    assert attributes_set_by(OIDCAuthenticationRequestView.__init__) == provided_by(SSOStart)
