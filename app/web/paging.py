"""Pages of a list: every list, inbox and search result is cut into pages of `PER_PAGE` rows.

Offset paging with a capped count (docs/web.md, "Lists and pages"): a page says "51–100 of 734"
(or "of more than 1,000") and links to the pages before and after with every filter kept. Counting
stops at `COUNT_CAP` rows, and no page lies past them, so a request reads at most that many rows
whatever the table holds: narrow the filters (or export) to reach further. The query's ORDER BY
must end with a unique column, so that a row never shows on two pages. A page asked for past the
last one shows the last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.web.inputs import MAX_ID

PER_PAGE = 50
SECTION_ROWS = 25  # a page of several lists (the console, the overview): each pages on its own `param`
COUNT_CAP = 1000


@dataclass(frozen=True)
class Page:
    number: int
    total: int  # counted up to COUNT_CAP + 1: more than COUNT_CAP means "more than"
    per_page: int = PER_PAGE
    param: str = "page"  # the query-string argument: a page with several lists gives each its own

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def shown_total(self) -> int:
        return min(self.total, COUNT_CAP)

    @property
    def pages(self) -> int:
        return max(math.ceil(self.shown_total / self.per_page), 1)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else self.offset + 1

    @property
    def last_row(self) -> int:
        return min(self.number * self.per_page, self.shown_total)

    def url(self, number: int) -> str:
        """This page of the list at `number`, the request's other arguments (the filters) kept."""
        args = {key: values for key, values in request.args.lists() if key != self.param}
        return url_for(request.endpoint, **(request.view_args or {}), **args, **{self.param: number})

    def at(self, number: int) -> Page:
        """The page `number`, or the last one if there are fewer."""
        return Page(min(number, self.pages), self.total, self.per_page, self.param)


def wanted(param: str = "page") -> int:
    """The page number asked for: a missing or unreadable one is the first."""
    number = request.args.get(param, type=int)
    return number if number is not None and 1 <= number <= MAX_ID else 1


def page_of(
    session: Session,
    query: Select | Callable[[int, int], Select],
    *,
    count: Select | None = None,
    per_page: int = PER_PAGE,
    param: str = "page",
) -> tuple[list[Any], Page]:
    """One page of `query`'s rows (entities, or tuples when it selects several) and where it is.
    `query` may also give a page's rows itself from its offset and length (a list read in parts, each
    cut at the page: the inbox); then `count` is required.
    `count`: the same rows without the joins that only load (cheaper to count), else `query`."""
    counted = (count if count is not None else query).order_by(None).limit(COUNT_CAP + 1)
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    page = Page(1, total, per_page, param).at(wanted(param))
    cut_query = query(page.offset, per_page) if callable(query) else query.limit(per_page).offset(page.offset)
    if len(cut_query.column_descriptions) == 1:
        return list(session.scalars(cut_query).unique()), page
    return [tuple(row) for row in session.execute(cut_query)], page
