"""The post-mortem draft in words: Markdown through a Jinja2 template and the versioned JSON export
(`render`), drawn from the facts `incidents.postmortem.build` gathers, and Slack's markup read back as
Markdown for what people wrote in Slack (`markup`). Used by `incidents export` and `/incident postmortem`."""
