"""Side effects the domain asks for. They are stored in the outbox with the change that causes them and
delivered later by whatever talks to the outside world (the Slack adapter implements each kind)."""

from __future__ import annotations

import enum


class Effect(enum.StrEnum):
    OPEN_CHANNEL = "open_channel"  # create the channel, invite, topic, card, pin, announce, bookmarks
    REFRESH_CARD = "refresh_card"  # chat.update the card and the announcement
    CHANNEL_MESSAGE = "channel_message"  # a plain message in the incident channel
    DIRECT_MESSAGE = "direct_message"  # a message to one person
    POST_UPDATE = "post_update"  # a stakeholder update: in the channel and under the announcement
    ROLE_BRIEFING = "role_briefing"  # tell a person what their new duty means
    REMINDER = "reminder"  # nag for a stakeholder update
    ESCALATION = "escalation"  # an update is overdue: everyone, and the announcements channel
    ENGAGE_OWNERS = "engage_owners"  # invite owners, mention their group, bookmark runbooks
    UPLOAD_POSTMORTEM = "upload_postmortem"
    # Connected (issue 12): alerts in, pages out, what changed
    TRIAGE_ALERT = "triage_alert"  # post an alert to the triage channel with a Declare incident button
    PAGE_TRIGGER = "page_trigger"  # page a team through its pager (PagerDuty, Opsgenie)
    PAGE_ACKNOWLEDGE = "page_acknowledge"  # acknowledge a team's page (only when the settings say so)
    PAGE_RESOLVE = "page_resolve"  # resolve a team's page (the incident was resolved)
    PAGE_OWNERS = "page_owners"  # page the teams owning services (the app reads the ownership map)
    SHOW_CHANGES = "show_changes"  # post "What changed recently" in the incident channel
    # Follow-through (issue 13): tickets for follow-ups (incidents.tickets)
    TICKET_CREATE = "ticket_create"  # create a follow-up's ticket in its tracker (Jira, GitHub Issues)
    TICKET_SYNC = "ticket_sync"  # read a ticket's status (a conditional request) and follow it
    TICKET_FOLLOWUPS = "ticket_followups"  # a ticket for each follow-up without one (TICKETS_ON_RESOLVE)
    # Follow-through (issue 13): the post-mortem review meeting (incidents.review)
    REVIEW_MESSAGE = "review_message"  # in the incident channel: asked for, reminders, "schedule it", waived
    REVIEW_INVITE = "review_invite"  # upload the review's calendar invite (.ics), or its cancellation
    # Insight (issue 14): the App Home (incidents.home)
    REFRESH_HOME = "refresh_home"  # views.publish one person's Home tab, drawn from the database when sent
    # Insight (issue 14): metrics across incidents (incidents.metrics, incidents.digest)
    UPLOAD_STATS = "upload_stats"  # upload the metrics charts to the conversation `/incident stats` was asked in
    DIGEST = "digest"  # the weekly digest: post the numbers and the charts in the digest channel
