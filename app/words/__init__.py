"""Words for the domain's facts. The domain records what happened (a timeline event's kind and fields, a channel
message's fact); this package writes the sentence for it, once, and each medium says how a person and what a
person wrote look in it: Slack mrkdwn (app/slack/blocks/facts.py), Markdown (app/postmortem), plain text (the
CLI)."""
