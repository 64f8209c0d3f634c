"""notification-controller's rules as libraries: the event, its routing to Alerts, the payloads each
Provider posts, and Receivers' webhook checks."""
