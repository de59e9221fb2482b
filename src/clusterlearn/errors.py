"""User-facing errors: each carries messages that name the file, the key and what was expected."""

from __future__ import annotations


class ClusterlearnError(Exception):
    """Base class of every error a user can cause (bad input, not a bug)."""


class ProblemsError(ClusterlearnError, ValueError):
    """A user input with one or more problems, all reported at once.

    ``problems`` lists one message per problem, each naming the key, what is allowed and the
    value given; ``source`` names the file (or other origin) when there is one.
    """

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f"{source}: " if source else ""
        if len(self.problems) == 1:
            text = f"{where}{self.problems[0]}"
        else:
            text = f"{where}{len(self.problems)} problems\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(text)


class ScenarioError(ProblemsError):
    """A scenario (file, dict or override) is not valid.

    ``problems`` lists one message per problem, each naming the dotted key, what is allowed
    and the value given, so that a user sees every problem at once.
    """
