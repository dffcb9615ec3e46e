"""The daemon's exception root. Leaves also inherit the matching builtin (DESIGN.md, style 5)."""


class ChargeboxError(Exception):
    """Root of every error chargebox raises."""


class ConfigError(ChargeboxError, ValueError):
    """The site config is wrong. ``problems`` holds every ``(file, key, what was expected)``."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{file}: {key}: {text}" for file, key, text in problems))
