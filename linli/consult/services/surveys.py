"""Needs surveys 需求调查: which items of a project each dwelling wants (one answer per dwelling;
answering again replaces the answer). Staff run them (CONSULT); grid workers and community staff
enter answers at the door (VISIT), and a resident answers for their own dwelling."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404

from linli.accounts.models import User as Account
from linli.accounts.permissions import authorize, can
from linli.accounts.roles import Action
from linli.consult.models import Survey, SurveyAnswer
from linli.consult.permissions import may_answer
from linli.consult.services.visits import dwelling_in_project
from linli.core import clock
from linli.core.errors import LinliError, Problem
from linli.core.types import User
from linli.places.models import Dwelling
from linli.renewal.models import Project, ProjectItem

COMMENT_MAX = 2000


@transaction.atomic
def create_survey(user: User, project: Project, title: str, opens_on: dt.date, closes_on: dt.date) -> Survey:
    authorize(user, Action.CONSULT, project)
    assert isinstance(user, Account)  # authorize() lets only a signed-in account through
    title = (title or "").strip()
    problems: list[Problem] = []
    if not title:
        problems.append(Problem("title_required", "请填写调查标题。", "The survey needs a title."))
    elif len(title) > 200:
        problems.append(Problem("title_too_long", "标题不能超过 200 字。", "The title is over 200 characters."))
    if opens_on is None or closes_on is None:
        problems.append(Problem("dates_required", "请填写开始和截止日期。", "Give the opening and closing dates."))
    elif closes_on < opens_on:
        problems.append(
            Problem("closes_before_opens", "截止日期不能早于开始日期。", "The survey cannot close before it opens.")
        )
    if problems:
        raise LinliError(problems)
    return Survey.objects.create(project=project, title=title, opens_on=opens_on, closes_on=closes_on, created_by=user)


def is_open(survey: Survey, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return survey.opens_on <= today <= survey.closes_on


def answer_survey(
    user: User, survey: Survey, dwelling: Dwelling, wanted_item_ids: Iterable[int | str], comment: str = ""
) -> SurveyAnswer:
    """Record (or replace) a dwelling's answer: the items it wants, and a comment."""
    if not may_answer(user, dwelling):
        if can(user, Action.VIEW, dwelling):
            raise PermissionDenied("may not answer for this dwelling")
        raise Http404("dwelling not found or not in scope")
    assert isinstance(user, Account)  # may_answer() holds only for a signed-in account
    comment = (comment or "").strip()
    problems: list[Problem] = []
    try:
        ids = sorted({int(i) for i in wanted_item_ids})
    except (TypeError, ValueError):
        ids = []
        problems.append(Problem("bad_item", "所选项目无效。", "An item chosen is not valid."))
    known = set(ProjectItem.objects.filter(project_id=survey.project_id, pk__in=ids).values_list("pk", flat=True))
    stray = [i for i in ids if i not in known]
    if stray:
        problems.append(
            Problem(
                "item_not_in_project",
                "所选项目不属于本次调查的改造项目。",
                "Some items chosen are not items of this survey's project.",
            )
        )
    if len(comment) > COMMENT_MAX:
        problems.append(Problem("comment_too_long", "意见不能超过 2000 字。", "The comment is over 2000 characters."))
    today = clock.today()
    if today < survey.opens_on:
        problems.append(
            Problem("survey_not_open", f"调查 {survey.opens_on} 才开始。", f"The survey opens on {survey.opens_on}.")
        )
    elif today > survey.closes_on:
        problems.append(
            Problem("survey_closed", f"调查已于 {survey.closes_on} 截止。", f"The survey closed on {survey.closes_on}.")
        )
    if not dwelling_in_project(survey.project, dwelling):
        problems.append(
            Problem("dwelling_not_in_project", "该房屋不在本项目范围内。", "This dwelling is not part of the project.")
        )
    if problems:
        raise LinliError(problems)
    with transaction.atomic():
        answer = SurveyAnswer.objects.select_for_update().filter(survey=survey, dwelling=dwelling).first()
        if answer is None:
            try:
                with transaction.atomic():
                    answer = SurveyAnswer.objects.create(
                        survey=survey, dwelling=dwelling, comment=comment, entered_by=user
                    )
            except IntegrityError:  # a concurrent first answer: replace it
                answer = SurveyAnswer.objects.select_for_update().get(survey=survey, dwelling=dwelling)
        answer.comment = comment
        answer.entered_by = user
        answer.save(update_fields=["comment", "entered_by", "updated_at"])
        answer.wanted.set(sorted(known))
    return answer
