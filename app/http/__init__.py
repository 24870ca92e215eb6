"""The HTTP edge: the WSGI app that routes `/slack/events`, `/healthz`, `/readyz` and `/metrics`; the inbound
checks that every Slack request passes before Bolt sees it (size, signature, shape: parsed once, verified once);
and the runners that serve it (gunicorn over HTTP, or Socket Mode)."""
