"""Command-line options built from the settings' fields (:mod:`autoconfig.settings`): each option's
name, environment variable, default, range and help come from its field, never written here again.

A command decorated with :func:`settings_options` receives one ``settings`` argument (a
:class:`~autoconfig.settings.Settings`, its lookup tuning included); one decorated with
:func:`server_options` also receives ``server``. Every command that opens a directory takes the
same options, so each can be pointed at the same CSV, SQLite or LDAP directory.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from autoconfig import errors
from autoconfig.settings import (
    Kind,
    LookupSettings,
    ServerSettings,
    Settings,
    Spec,
    parse_networks,
    specs,
)

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _networks(
    _ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[Any, ...]:
    problems: list[errors.Problem] = []
    networks = parse_networks(" ".join(value), problems, param.opts[0])
    if problems:
        raise click.BadParameter("; ".join(p.message for p in problems))
    return networks


class FiniteRange(click.FloatRange):
    """A number within the range; ``nan`` and ``inf``, which every comparison lets through, are
    refused (a time-out of ``nan`` made every lookup fail, and ``doctor`` hang)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


def _type(spec: Spec) -> Any:
    if spec.kind is Kind.INT:
        return click.IntRange(
            int(spec.low) if spec.low is not None else None,
            int(spec.high) if spec.high is not None else None,
        )
    if spec.kind is Kind.FLOAT:
        return FiniteRange(spec.low, spec.high)
    if spec.kind is Kind.PATH:
        return click.Path(path_type=Path, dir_okay=not spec.file, exists=spec.exists)
    if spec.kind is Kind.CHOICE:
        return click.Choice(spec.choices)
    return None


def option(item: dataclasses.Field[Any], spec: Spec, param: str) -> Decorator:
    """The click option of one settings field, passed to the command as ``param``."""
    assert spec.option is not None
    if spec.kind is Kind.NETWORKS:
        return click.option(
            spec.option,
            param,
            envvar=spec.env,
            multiple=True,
            callback=_networks,
            metavar=spec.metavar,
            help=spec.help,
        )
    default = (
        item.default_factory if item.default_factory is not dataclasses.MISSING else item.default
    )
    return click.option(
        spec.option,
        param,
        envvar=spec.env,
        default=None if default is dataclasses.MISSING else default,
        show_default=spec.show_default if default not in (None, dataclasses.MISSING) else False,
        type=_type(spec),
        metavar=spec.metavar,
        help=spec.help,
    )


def _options_of(cls: type[Any], prefix: str) -> list[tuple[str, str, Decorator]]:
    """``(parameter, field, option)`` for each field of ``cls`` that has an option."""
    return [
        (f"{prefix}{item.name}", item.name, option(item, spec, f"{prefix}{item.name}"))
        for item, spec in specs(cls)
        if spec.option is not None
    ]


Group = tuple[str, list[tuple[str, str, Decorator]]]
"""A group of options: its name, and ``(parameter, field, option)`` for each of them."""


def _decorate(
    command: Callable[..., Any],
    groups: list[Group],
    build: Callable[[dict[str, dict[str, Any]]], dict[str, Any]],
) -> Callable[..., Any]:
    """``command`` with the options of ``groups``; ``build`` turns their values (by group, by
    field) into the command's arguments."""

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        values = {
            name: {item: kwargs.pop(param) for param, item, _ in options}
            for name, options in groups
        }
        return command(**build(values), **kwargs)

    decorated: Callable[..., Any] = wrapper
    for _name, options in reversed(groups):
        for _param, _item, decorator in reversed(options):
            decorated = decorator(decorated)
    return decorated


def _settings(values: dict[str, dict[str, Any]]) -> Settings:
    lookup = LookupSettings.with_options(values["lookup"])
    return Settings.with_options(values["settings"], lookup=lookup)


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add every option of :class:`Settings`; the command receives them as ``settings``."""
    groups: list[Group] = [
        ("settings", _options_of(Settings, "")),
        ("lookup", _options_of(LookupSettings, "")),
    ]
    return _decorate(command, groups, lambda v: {"settings": _settings(v)})


def dataclass_options(cls: type[Any], name: str) -> Decorator:
    """Add the options of the settings class ``cls``; the command receives them as ``name``."""
    groups: list[Group] = [(name, _options_of(cls, f"{name}_"))]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        return _decorate(command, groups, lambda v: {name: cls.with_options(v[name])})

    return decorate


server_options = dataclass_options(ServerSettings, "server")
"""The options of :class:`ServerSettings`, received as ``server``."""


def profiles_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Only ``--profiles``, for the commands that need no directory (``dns``, ``doctor``); the
    command receives ``settings`` all the same."""
    item, spec = next((i, s) for i, s in specs(Settings) if i.name == "profiles")
    groups: list[Group] = [("settings", [("profiles", "profiles", option(item, spec, "profiles"))])]
    return _decorate(command, groups, lambda v: {"settings": Settings.with_options(v["settings"])})
