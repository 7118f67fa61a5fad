"""Domain exceptions. Each carries an i18n key and parameters so any front end can say it in the user's language."""


class VoidDeskError(Exception):
    """Base for every refusal the user should read."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params):
        self.key = key or self.key
        self.params = params
        super().__init__(self.key)

    def message(self, lang: str = "en") -> str:
        from lib.i18n import catalogue, t

        # A parameter that is itself a catalogue key (e.g. "status.voided") is shown translated.
        words = catalogue(lang)
        params = {k: words.get(v, v) if isinstance(v, str) and "." in v else v for k, v in self.params.items()}
        return t(self.key, lang, **params)

    def __str__(self) -> str:
        return self.message("en")


class PermissionDenied(VoidDeskError):
    key = "error.permission"

    def message(self, lang: str = "en") -> str:
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
