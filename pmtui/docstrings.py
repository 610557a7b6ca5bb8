"""Attribute docstrings (the string literal under a field) of pydantic models, read from the source.

pydantic can collect these itself (``use_attribute_docstrings``), but it does so when the class is built:
it finds and parses each class's source at import. For the settings that was 45 ms of every command's
start (14 classes), spent on text only ``pmtui config reference`` shows. So nothing sets the option, and
the two places that show field docs (the configuration reference and the LLM planner's tool schemas)
read them here, once, when they need them.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from functools import cache

from pydantic import BaseModel


@cache
def field_docstrings(cls: type[BaseModel]) -> dict[str, str]:
    """Attribute docstrings of ``cls`` and its model bases from the same module, by field name.

    A subclass's docstring for a field wins over its base's, as in the class body. The text is
    :func:`inspect.cleandoc`-ed, the way pydantic's own option stores it.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if (
            not (isinstance(klass, type) and issubclass(klass, BaseModel))
            or klass.__module__ != cls.__module__
        ):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, after in itertools.pairwise(body):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs
