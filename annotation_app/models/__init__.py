"""The data model for every project kind (caption, points, ask, compare) and for releases."""

from .audit import AuditEvent
from .captions import Caption, CaptionVersion, Recording, Transcript
from .compare import CompareItem, PreferenceJudgment
from .images import Image
from .jobs import PipelineJob, WorkerHeartbeat
from .points import PointSet
from .projects import Project, ProjectKind
from .ask import AskThread, AskTurn, CapQADialogue
from .provenance import ModelProvenance
from .releases import DatasetRelease
from .reviews import Review, ReviewStatus
from .users import Role, User
from .work import Assignment, ProblemReport, WorkItem

__all__ = [
    "AskThread",
    "AskTurn",
    "Assignment",
    "AuditEvent",
    "CapQADialogue",
    "Caption",
    "CaptionVersion",
    "CompareItem",
    "DatasetRelease",
    "Image",
    "ModelProvenance",
    "PipelineJob",
    "PointSet",
    "PreferenceJudgment",
    "ProblemReport",
    "Project",
    "ProjectKind",
    "Recording",
    "Review",
    "ReviewStatus",
    "Transcript",
    "User",
    "Role",
    "WorkItem",
    "WorkerHeartbeat",
]
