"""Charts drawn as PNG with matplotlib's headless Agg backend: the metrics across incidents (stats.py), and the
picture of one incident's timeline (incident.py). Each function takes plain data (from the domain) and returns the
PNG's bytes; nothing here reads the database or speaks Slack."""

from __future__ import annotations

import threading

import matplotlib

matplotlib.use("Agg")

# matplotlib's global state (font cache, text layout caches, rcParams) is not thread-safe, and the outbox worker
# runs handlers in threads: every chart of either module is drawn under this one lock.
DRAWING = threading.Lock()
