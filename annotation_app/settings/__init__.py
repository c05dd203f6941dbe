"""Settings from the environment; each concern in its own module.

Every value has an embedded default used when its variable is absent, so the platform runs on
a laptop with nothing installed (SQLite, a filesystem broker, a local media folder) and on
production services (PostgreSQL, Redis, S3) with the same code.

The model settings (PIXMO_ASR_*, PIXMO_LLM_*, PIXMO_OCR_*) are not copied here: `pipelines`
reads them from the same environment (see `pipelines/__init__.py`), in workers and the CLI alike.
"""

from .base import *  # noqa: F401,F403
from .database import *  # noqa: F401,F403
from .security import *  # noqa: F401,F403
from .storage import *  # noqa: F401,F403
from .tasks import *  # noqa: F401,F403
