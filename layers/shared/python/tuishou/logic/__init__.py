"""Domain logic: no HTTP or event-shape knowledge; data access through ``tuishou.dal``."""
