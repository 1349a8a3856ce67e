"""Import the handler for a cold start, and forget it when the environment ends.

Decisions (the issue left them open):

* A cold start imports the handler module afresh: the module (and any module named in
  ``FunctionConfig.fresh_modules``, with its submodules) is taken out of ``sys.modules`` first,
  so module-level code runs again and its time is the Init Duration.
* Modules the environment imports that live under the task root (the function's own code) are
  the environment's: they are removed from ``sys.modules`` when it ends, and whatever they
  displaced is put back, so the next cold environment imports them again.
* Libraries (stdlib, site-packages) imported by the handler stay loaded in the process:
  unloading C extensions is unsafe. So a second cold start in the same process does not pay
  for importing them again; the first one does (invoke.py imports no library the function
  uses before the first init).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

__all__ = ["HandlerError", "ModuleLedger", "load_handler", "split_handler"]

_HARNESS = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LIBS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


class HandlerError(Exception):
    """The handler cannot be loaded. ``error_type`` is the one Lambda reports."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def split_handler(spec: str) -> tuple[str, str]:
    """``"pkg.module.func"`` -> ``("pkg.module", "func")``."""
    module, _, func = spec.rpartition(".")
    if not module or not func:
        raise HandlerError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{spec}': not enough values to unpack (expected 2, got 1)",
        )
    return module, func


def load_handler(spec: str) -> Callable[..., Any]:
    """Import the module and return the handler, raising `HandlerError` like Lambda would."""
    module_name, func_name = split_handler(spec)
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as e:
        raise HandlerError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {e}"
        ) from e
    except ImportError as e:
        raise HandlerError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {e}"
        ) from e
    func = getattr(module, func_name, None)
    if not callable(func):
        raise HandlerError(
            "Runtime.HandlerNotFound", f"Handler '{func_name}' missing on module '{module_name}'"
        )
    return func


class ModuleLedger:
    """Which ``sys.modules`` entries one execution environment owns, and what they displaced."""

    def __init__(self, task_root: str) -> None:
        self._root = os.path.realpath(task_root) + os.sep
        self._displaced: dict[str, ModuleType] = {}
        self._owned: set[str] = set()
        self._known: set[str] = set(sys.modules)
        self._count = len(sys.modules)

    def evict(self, names: Iterable[str]) -> None:
        """Take ``names`` and their submodules out of ``sys.modules`` before a cold import."""
        prefixes = tuple(names)
        for name in [n for n in sys.modules if n in prefixes or n.startswith(_dotted(prefixes))]:
            module = sys.modules.pop(name)
            self._displaced.setdefault(name, module)
        self._known = set(sys.modules)
        self._count = len(sys.modules)

    def own(self, name: str) -> None:
        """Count ``name`` as the environment's whatever its path (the handler module)."""
        self._owned.add(name)

    def note(self) -> None:
        """Record modules imported since the last call (cheap when none were)."""
        if len(sys.modules) == self._count:
            return
        for name, module in list(sys.modules.items()):
            if name not in self._known and self._is_function_code(module):
                self._owned.add(name)
        self._known = set(sys.modules)
        self._count = len(sys.modules)

    def _is_function_code(self, module: ModuleType | None) -> bool:
        path = getattr(module, "__file__", None)
        if not path:
            return False
        real = os.path.realpath(path)
        return (
            real.startswith(self._root)
            and not real.startswith(_HARNESS)
            and not any(lib in real for lib in _LIBS)
        )

    def release(self) -> None:
        """Forget the environment's modules and put back what they displaced."""
        self.note()
        for name in self._owned:
            sys.modules.pop(name, None)
        for name, module in self._displaced.items():
            sys.modules.setdefault(name, module)
        self._owned.clear()
        self._displaced.clear()


def _dotted(prefixes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p + "." for p in prefixes)
