from annotation_app.errors import NotFound
from annotation_app.models import AskThread, Recording, User


def recording_get_visible(*, user: User, recording_id: int) -> Recording:
    """Annotators see their own recordings; reviewers and admins see all."""
    queryset = Recording.objects.select_related("work_item__image").prefetch_related("transcripts")
    if not user.is_reviewer:
        queryset = queryset.filter(annotator=user)
    recording = queryset.filter(pk=recording_id).first()
    if recording is None:
        raise NotFound(f"recording {recording_id} does not exist")
    return recording


def recording_caption(*, recording: Recording):
    """The newest caption refined from this recording's transcripts, if any."""
    from annotation_app.models import Caption

    return Caption.objects.filter(transcripts__recording=recording).order_by("-created_at").first()


def ask_thread_get_visible(*, user: User, thread_id: int) -> AskThread:
    queryset = AskThread.objects.prefetch_related("turns")
    if not user.is_reviewer:
        queryset = queryset.filter(annotator=user)
    thread = queryset.filter(pk=thread_id).first()
    if thread is None:
        raise NotFound(f"ask thread {thread_id} does not exist")
    return thread
