"""A bounded cache of rendered answers, so that each distinct answer is built once.

Renderers are pure, so an answer depends only on its inputs: the provider and the few account
values its renderer reads (``thunderbird.document``, ``autodiscover.settings_document``). The
cache belongs to one loaded service; a reload builds a new service and so a new cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from autoconfig.render import Rendered

DEFAULT_SIZE = 1024


class RenderCache:
    """Least-recently-used answers, at most ``size`` of them (a generic answer per provider and
    one per looked-up login stay warm)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._answers: OrderedDict[Hashable, Rendered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Hashable, render: Callable[[], Rendered]) -> Rendered:
        """The answer stored under ``key``, rendered by ``render()`` the first time."""
        answer = self._answers.get(key)
        if answer is not None:
            self._answers.move_to_end(key)
            return answer
        answer = render()
        self._answers[key] = answer
        if len(self._answers) > self.size:
            self._answers.popitem(last=False)
        return answer
