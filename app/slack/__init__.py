"""Everything that speaks Slack: the Bolt app and its listeners, the `/incident` subcommands, the forms
(modals) and their parsing, the Block Kit builders that turn the domain's facts into Slack's words, the Web API
client with its retry handlers, Slack's error codes, ids (actions, blocks, callbacks) and the cached look-ups
(the bot's user id, channel ids, people by email)."""
