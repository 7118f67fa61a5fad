"""Domain exceptions. Each carries an i18n key and parameters so any front end can say it in the user's language."""
from collections.abc import Callable
from numbers import Number


class VoidDeskError(Exception):
    """Base for every refusal the user should read."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params):
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)

    def message(self, lang: str = "en", escape: Callable[[str], str] | None = None) -> str:
        """The refusal in `lang`. `escape` (the pages' Markdown escaping; the CLI passes none) is applied to every
        parameter but a number, after translation: they carry what a URL or the data says, never the catalogue's."""
        from lib.i18n import catalogue, t

        # A parameter that is itself a catalogue key (e.g. "status.voided") is shown translated.
        words = catalogue(lang)
        params = {k: words.get(v, v) if isinstance(v, str) and "." in v else v for k, v in self.params.items()}
        if escape is not None:
            params = {k: v if isinstance(v, Number) else escape(str(v)) for k, v in params.items()}
        return t(self.key, lang, **params)

    def __str__(self) -> str:
        return self.message("en")


class PermissionDenied(VoidDeskError):
    key = "error.permission"

    def message(self, lang: str = "en", escape: Callable[[str], str] | None = None) -> str:
        # Every word here is the catalogue's (an action, role names): there is nothing to escape.
        from lib.i18n import join_words, t

        roles = join_words([t(f"role_plural.{r}", lang) for r in self.params.get("roles", ())], lang)
        return t(self.key, lang, action=t(self.params["action"], lang), roles=roles)


class NotFound(VoidDeskError):
    key = "error.not_found"


class InvalidInput(VoidDeskError):
    key = "error.invalid"


class ConcurrentChange(VoidDeskError):
    """Someone else changed the same record at the same moment; nothing was written."""

    key = "error.concurrent_change"


class RuleViolation(VoidDeskError):
    key = "error.rule"


class AuthFailed(VoidDeskError):
    key = "auth.wrong_credentials"


class TooManyAttempts(VoidDeskError):
    key = "auth.too_many_attempts"


class NotEmpty(VoidDeskError):
    key = "seed.not_empty"
