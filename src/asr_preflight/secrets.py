"""Secret-looking values in free text: found by shape, replaced by a marker, never echoed.

Used on everything that carries text from the input or from Azure into what the tool writes
(snapshot records, extension settings, proxy URLs, error messages); see snapshot/redact.py for
secrets found by their key.
"""

from __future__ import annotations

import re

REDACTED = "REDACTED"

# Each pattern: (?P<keep>…) stays, (?P<secret>…) becomes REDACTED, (?P<after>…) stays.
_VALUE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # storage and Event Hubs connection strings
        r"(?P<keep>(?:AccountKey|SharedAccessKey|SharedAccessSignature)=)(?P<secret>[^;\"'\s]+)",
        # a SAS signature, in a URL or on its own ("sig=…", "?sv=…&sig=…")
        r"(?P<keep>\bsig=)(?P<secret>[^&\"'\s]+)",
        r"(?P<keep>\bBearer\s+)(?P<secret>[A-Za-z0-9\-._~+/]+=*)",
        r"(?P<keep>)(?P<secret>\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*)",
        # a URL's password: scheme, user, host and port stay
        r"(?P<keep>[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)(?P<secret>[^@/\s\"']+)(?P<after>@)",
        # command lines: --password x, --password=x, /password:x
        r"(?P<keep>(?:--?|/)(?:password|passwd|pwd|secret|token|sas-token|account-key)"
        r"(?:\s+|[:=]))(?P<secret>\"[^\"]*\"|'[^']*'|[^\s\"']+)",
        # key=value settings: password=x, PWD: x
        r"(?P<keep>\b(?:password|passwd|pwd|secret|token|apikey|api_key)\s*[=:]\s*)"
        r"(?P<secret>\"[^\"]*\"|'[^']*'|[^\s;&,\"']+)",
    )
)
# Cheap pre-check: a string without any of these cannot match a pattern above.
_TRIGGERS = ("sig=", "key=", "signature=", "bearer", "eyj", "@", "pass", "pwd", "secret", "token")


def _replace(match: re.Match[str]) -> str:
    return match.group("keep") + REDACTED + (match.groupdict().get("after") or "")


def scrub(text: str) -> str:
    """`text` with every secret-looking value replaced by REDACTED (names and shape kept)."""
    return scrub_counted(text)[0]


def scrub_counted(text: str) -> tuple[str, int]:
    lowered = text.lower()
    if not any(t in lowered for t in _TRIGGERS):
        return text, 0
    total = 0
    for pattern in _VALUE_PATTERNS:
        text, count = pattern.subn(_replace, text)
        total += count
    return text, total
