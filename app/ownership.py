"""The ownership map for a serving process: loaded once at start-up from OWNERSHIP_MAP_PATH, kept current by
`incidents.owners.OwnershipStore` (which re-reads the files when they change and keeps the last good map)."""

from __future__ import annotations

from app.settings import Settings, SettingsError
from incidents.owners import OwnershipMapError, OwnershipStore

VARIABLE = "OWNERSHIP_MAP_PATH"


def load_ownership(settings: Settings) -> OwnershipStore | None:
    """The store, or None when no map is configured. An invalid map stops start-up: `SettingsError` lists every
    problem as `FILE:LINE: MESSAGE`, exactly as `incidents owners check` prints them."""
    if not settings.ownership_map_path:
        return None
    try:
        return OwnershipStore(settings.ownership_map_path)
    except OwnershipMapError as exc:
        count = len(exc.problems)
        raise SettingsError(
            [
                f"{VARIABLE}: the ownership map has {count} problem{'' if count == 1 else 's'}; fix them "
                f"(check with `incidents owners check`) or unset {VARIABLE}",
                *(str(problem) for problem in exc.problems),
            ]
        ) from None
