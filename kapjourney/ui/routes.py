"""Page routes (re-exported from ``kapjourney.routes`` so HTTP and UI share one source)."""

from kapjourney.routes import (  # noqa: F401
    CLINICIAN_HOME,
    CRISIS,
    HOME_BY_ROLE,
    INDEX,
    INVITE,
    SIGNIN,
    TODAY,
)
