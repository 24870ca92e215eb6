"""One module per Slack surface. Each has `register(app, deps)` and is listed in `app.slack.routes`."""
