"""Domain logic: no HTTP or event knowledge; data access goes through ``tuishou.dal``."""
