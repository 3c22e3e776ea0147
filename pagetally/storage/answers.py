"""Print-time answers in the SQL store (issue 15): written beside the job's
history row, read back by the job's identity. A PIN is never written: the
answer to a PIN question is "given" or "" (core/dialogs.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from pagetally.core.dialogs import ANSWER_MAX, Answer, Kind, Source
from pagetally.core.models import JobFacts
from pagetally.storage.schema import jobanswers
from pagetally.storage.sql_base import SqlBase


class AnswerMethods(SqlBase):
    """The store's part that keeps print-time answers."""

    def record_job_answers(self, facts: JobFacts, answers: Sequence[Answer], date: datetime) -> int:
        """Keep `answers` with the job `facts` names; how many rows were written."""
        rows = [
            {
                "printername": facts.printer,
                "jobid": facts.job_id,
                "hostname": facts.host or "",
                "jobuuid": facts.job_uuid,
                "username": facts.user,
                "question": Kind(a.kind).value,
                "answer": ("given" if a.value else "")
                if a.kind is Kind.PIN
                else a.value[:ANSWER_MAX],
                "source": Source(a.source).value,
                "jobdate": date,
            }
            for a in answers
        ]
        if not rows:
            return 0

        def work(conn: Connection) -> int:
            conn.execute(insert(jobanswers), rows)
            return len(rows)

        return self._write(work)

    def job_answers(self, printer: str, job_id: str) -> list[Answer]:
        """The answers kept for a job (CUPS job `job_id` on `printer`), oldest first."""

        def work(conn: Connection) -> list[Answer]:
            stmt = (
                select(jobanswers.c.question, jobanswers.c.answer, jobanswers.c.source)
                .where(jobanswers.c.printername == printer, jobanswers.c.jobid == job_id)
                .order_by(jobanswers.c.id)
            )
            return [Answer(Kind(q), str(a), Source(s)) for q, a, s in conn.execute(stmt)]

        return self._read(work)
