"""Monitoring alarms in: Prometheus Alertmanager's webhook and a generic alarm JSON become incidents
(type fault, source monitoring), deduplicated by fingerprint, a storm for one system within a window
gathered under one parent, a resolved alarm noted on its incident — never closing it (docs/api.md)."""
