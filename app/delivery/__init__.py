"""Carrying out what the domain asked for, after the fact: the outbox worker and its threads, the circuit
breaker that stops calling Slack while it is down, the effect handlers (one module per group of effect kinds)
and the scheduler that runs the stakeholder-update reminders exactly once across replicas."""
