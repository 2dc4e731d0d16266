"""The task catalogue: what each dataset is, and where its rows come from."""

from flanlab.tasks.catalogue import Catalogue
from flanlab.tasks.spec import TaskSpec, Template

__all__ = ["Catalogue", "TaskSpec", "Template"]
