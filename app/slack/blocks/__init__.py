"""Pure builders of Block Kit messages and modals from domain objects, made with `slack_sdk.models` so Slack's
limits are checked when `to_dict()` runs. User text is escaped (no stray @channel) and cut to Slack's limits."""
