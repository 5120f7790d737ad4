"""What a deploy tells people and machines: one event bus, many readers.

The engine emits events (`events.EventBus`); subscribers turn them into JSON
lines, JUnit XML, an HTML timeline, a live terminal view, plain CI lines and
webhook notifications. Secrets are scrubbed once, in the bus, before any
subscriber sees an event.
"""
