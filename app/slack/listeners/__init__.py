"""One module per Slack surface. Each has `register(app, deps)` and is listed in `app.slack.bolt_app.LISTENER_MODULES`."""
