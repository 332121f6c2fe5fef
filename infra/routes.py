"""The HTTP routes of a function, read from its Powertools resolver (`app` in its entry point, e.g.
functions/<name>/handler.py):
the handler that serves a route is the one place the route is declared.

A route needs the Cognito token unless its OpenAPI security requirement is empty: `security=[]` on the route,
or on the resolver (`app.configure_openapi(security=[])`) for routes that declare none. Undeclared means a
token: forgetting the declaration closes a route, it never opens one.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from types import ModuleType

from infra.catalog import ROOT, FunctionSpec

RESOLVER = "app"


@dataclass(frozen=True, order=True)
class Route:
    method: str  # upper case, as API Gateway names it
    path: str  # API Gateway form: /users/{user_id}
    public: bool


@cache
def resolver_routes(spec: FunctionSpec) -> tuple[Route, ...]:
    resolver = getattr(_load_handler(spec), RESOLVER)
    default = resolver.openapi_config.security
    # Powertools lists routes only in these two attributes (its own OpenAPI generation reads them), and its
    # schema drops an empty `security`, the one value that makes a route public.
    routes = resolver._static_routes + resolver._dynamic_routes
    declared = [(route, route.security if route.security is not None else default) for route in routes]
    return tuple(sorted(Route(r.method, r.openapi_path, public=security == []) for r, security in declared))


def _load_handler(spec: FunctionSpec) -> ModuleType:
    """Imports the handler as Lambda would: the domain package and the function's own folder importable."""
    if str(ROOT / "shared") not in sys.path:
        sys.path.append(str(ROOT / "shared"))
    name = f"chirp_routes_{spec.name}"  # most handler modules are called `handler`: give each its own name
    module_spec = importlib.util.spec_from_file_location(name, spec.handler_file)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # pydantic resolves the handler's annotations through it
    sys.path.insert(0, str(spec.code_dir))  # the function's own modules, first as in Lambda's task root
    try:
        module_spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(spec.code_dir))
    return module
