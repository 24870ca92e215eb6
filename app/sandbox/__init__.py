"""A local Slack workspace: state (`workspace`), a Web API double (`webapi`) and the platform's side toward the
bot (`client`). The test suite and the product's sandbox mode both run on it; it never talks to slack.com."""
