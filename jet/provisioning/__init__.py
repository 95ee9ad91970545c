"""Provisioning: hooks that carry account changes to the systems beside Jet (docs/hooks.md).

A realm's hooks (`$JET_HOME/hooks/<realm>.yaml`, `hook_config`) map event topics to
actions; each hook is a subscriber of the outbox (`hook_subscribers`), so delivery is at
least once, in order per account, retried with backoff and dead-lettered as every
subscriber's is (jet.deliveries). Action parameters are sandboxed Jinja2 templates over
the event and the account as the store holds it when the hook runs (`hook_context`)."""
