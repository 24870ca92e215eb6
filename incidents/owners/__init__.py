"""The service ownership map: who owns a service, who to call first, where the runbook is.

Read from our YAML format and/or Backstage catalog files; no Slack code here.
"""

from incidents.owners.lookup import (
    DependencyOwner,
    Engagement,
    Owners,
    OwnershipMap,
    ResolvingDirectory,
    ServiceMatch,
    UserDirectory,
    resolve_contacts,
)
from incidents.owners.model import EscalationStep, Link, Service, Team
from incidents.owners.store import OwnershipStore, load_map
from incidents.owners.validate import OwnershipMapError, Problem

__all__ = [
    "DependencyOwner",
    "Engagement",
    "EscalationStep",
    "Link",
    "Owners",
    "OwnershipMap",
    "OwnershipMapError",
    "OwnershipStore",
    "Problem",
    "ResolvingDirectory",
    "Service",
    "ServiceMatch",
    "Team",
    "UserDirectory",
    "load_map",
    "resolve_contacts",
]
