"""The `incidents` command: one module per command group (`serve` and the incident views in `main`, `db`,
`export`, `outbox`, `owners`, `scheduler`) and `common` for what they share (settings read once, the database
problem message)."""
