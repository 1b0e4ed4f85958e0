# Registers the session hook that keeps the caseload dashboard's summaries up to date
# (issue 6, item 2): every adapter that writes records imports a service, hence this package.
from kapjourney.services import dashboard as _dashboard  # noqa: F401
