"""Stage 3 -- requests: items x conditions -> what a model must score.

The continuations of one context travel together in one
:class:`ContextRequest`, so an adapter can encode the context once.
"""

from s2sbench.core.conditions import Condition, parse_conditions
from s2sbench.core.context_request import ContextRequest
from s2sbench.requests.build import build_requests
from s2sbench.requests.prompts import PromptTemplate, get_template

__all__ = [
    "Condition",
    "ContextRequest",
    "PromptTemplate",
    "build_requests",
    "get_template",
    "parse_conditions",
]
