"""帮办代办: each case's identity check as recorded, and the enterprises' 办事专员.

"材料只交一次，沟通只对一人": an enterprise (by its 统一社会信用代码) may have one dedicated staff
member of the station, assigned by a supervisor; the acceptance form and the case detail show
them for that applicant's cases. Assignments are local to the station and audited.
"""

from __future__ import annotations

from models.enums import ApplicantType
from models.identity import check_applicant_id, check_person_id, mask_id, normalize_id
from models.identity_check import CaseIdentity, Specialist
from models.problems import DomainError, Problem
from offline_cache import Store, identity_repo
from window_client.services.staff import StaffMember


class AssistanceService:
    """Identity records of cases and 办事专员 assignments at one station."""

    def __init__(self, store: Store, station: str) -> None:
        self.store = store
        self.station = station

    def identity_of(self, case_no: str) -> CaseIdentity | None:
        """How the case's applicant was identified; None for a case from before it was recorded."""
        with self.store.reading() as conn:
            return identity_repo.identity_of(conn, case_no)

    def specialist_for(self, applicant_type: str, applicant_id: str) -> Specialist | None:
        """The 办事专员 of an enterprise applicant (None for a person, or an invalid code)."""
        if applicant_type != ApplicantType.ORG:
            return None
        code, problem = check_applicant_id(ApplicantType.ORG, applicant_id)
        if problem is not None:
            return None
        with self.store.reading() as conn:
            return identity_repo.specialist_of(conn, code)

    def specialists(self) -> list[Specialist]:
        """Every enterprise with a 办事专员."""
        with self.store.reading() as conn:
            return identity_repo.all_specialists(conn)

    def assign(self, credit_code: str, staff_no: str, supervisor: StaffMember) -> Specialist:
        """Make ``staff_no`` (an active staff member of this station) the enterprise's 办事专员.

        Raises :class:`DomainError` for an invalid credit code or an unknown staff member, and
        ``PermissionError`` unless ``supervisor`` is one."""
        code = self._credit_code(credit_code)
        if not supervisor.is_supervisor:
            raise PermissionError(f"{supervisor.staff_no} is not a supervisor")
        staff_no = staff_no.strip()
        with self.store.transaction(supervisor.staff_no) as unit:
            if identity_repo.active_staff_name(unit.conn, staff_no, self.station) is None:
                raise DomainError.of("specialist.unknown_staff", staff_no=staff_no[:32])
            identity_repo.assign_specialist(unit, code, staff_no)
            unit.audit("specialist.assign", code, {"staff_no": staff_no})
            found = identity_repo.specialist_of(unit.conn, code)
        assert found is not None
        return found

    def remove(self, credit_code: str, supervisor: StaffMember) -> None:
        """The enterprise no longer has a 办事专员 (:class:`DomainError` when it had none)."""
        code = self._credit_code(credit_code)
        if not supervisor.is_supervisor:
            raise PermissionError(f"{supervisor.staff_no} is not a supervisor")
        with self.store.transaction(supervisor.staff_no) as unit:
            if not identity_repo.remove_specialist(unit, code):
                raise DomainError.of("specialist.none", code=code)
            unit.audit("specialist.remove", code, {})

    @staticmethod
    def _credit_code(text: str) -> str:
        """The credit code in ``text``; a person's ID number is told apart from a mistyped code."""
        code, problem = check_applicant_id(ApplicantType.ORG, text)
        if problem is None:
            return code
        if check_person_id(text)[1] is None:
            raise DomainError(Problem("specialist.not_org", {"code": mask_id(normalize_id(text))}))
        raise DomainError(problem)
