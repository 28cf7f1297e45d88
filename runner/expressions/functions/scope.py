"""Scope functions: pipeline(), variables(name), activity(name), item(), dataset(), linkedService(),
trigger(), triggerBody(). They read the ``Context`` (see its docstring)."""
from __future__ import annotations

from .._errors import Failure
from .._values import lookup_property
from ._registry import function, want_str


def _plain(value):
    if value is not None and type(value) is not dict and hasattr(value, "keys"):
        return dict(value)
    return value


@function("pipeline", 0, needs_context=True)
def pipeline(ctx):
    return ctx._system_object()


@function("variables", 1, needs_context=True)
def variables(ctx, name):
    name = want_str("variables", 0, name)
    found, value = lookup_property(_plain(ctx.variables), name)
    if not found:
        raise Failure(f"the variable '{name}' is not defined in the pipeline")
    return value


@function("activity", 1, needs_context=True)
def activity(ctx, name):
    name = want_str("activity", 0, name)
    found, value = lookup_property(_plain(ctx.activities), name)
    if not found:
        raise Failure(f"the output of activity '{name}' can't be referenced since it is either not an ancestor to "
                      f"the current activity or does not exist")
    return _plain(value)


@function("item", 0, needs_context=True)
def item(ctx):
    if not ctx._has_item:
        raise Failure("the function 'item' can only be used inside a ForEach or Filter activity")
    return ctx.item


@function("dataset", 0, needs_context=True)
def dataset(ctx):
    if ctx.dataset is None:
        raise Failure("the function 'dataset' can only be used inside a dataset definition")
    return _plain(ctx.dataset)


@function("linkedService", 0, needs_context=True)
def linked_service(ctx):
    if ctx.linked_service is None:
        raise Failure("the function 'linkedService' can only be used inside a linked service definition")
    return _plain(ctx.linked_service)


@function("trigger", 0, needs_context=True)
def trigger(ctx):
    if ctx.trigger is None:
        raise Failure("the function 'trigger' can only be used in a trigger's pipeline parameters")
    return _plain(ctx.trigger)


@function("triggerBody", 0, needs_context=True)
def trigger_body(ctx):
    obj = trigger(ctx)
    found, outputs = lookup_property(obj, "outputs")
    outputs = _plain(outputs)
    if not found or type(outputs) is not dict:
        raise Failure("the trigger has no outputs, so 'triggerBody' has no value")
    found, body = lookup_property(outputs, "body")
    if not found:
        raise Failure("the trigger's outputs have no body")
    return _plain(body)
