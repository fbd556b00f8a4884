"""A small, polite HTTP GET client every network source goes through.

Contract of :meth:`HttpClient.get`:

* at least ``min_interval`` seconds pass between the starts of two requests made by one client
  (retries included), because arXiv and friends ask for it and ban those who don't;
* HTTP 429/500/502/503/504, connection failures, broken connections and timeouts are retried
  up to ``max_retries`` times; the wait is the server's ``Retry-After`` (seconds or an HTTP
  date) when it sends one, else ``backoff * 2**attempt`` (attempt 0 for the first retry),
  and never more than ``max_wait``;
* any other non-2xx answer raises :class:`~paperroute.errors.SourceError` at once, as do
  exhausted retries and a body over :data:`MAX_RESPONSE_BYTES`; the message names the URL,
  the status, and the first ~200 characters of the body's text when the body is text;
* redirects are followed; the 2xx body is returned as bytes (content-encoding undone).

Sleeping goes through the injected ``sleep`` so tests can record the waits without waiting.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import html
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from ..errors import SourceError

__all__ = [
    "ARXIV_MIN_INTERVAL",
    "DEFAULT_USER_AGENT",
    "MAX_RESPONSE_BYTES",
    "RETRY_STATUSES",
    "Answer",
    "HttpClient",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

ARXIV_MIN_INTERVAL = 3.0  # arXiv asks for one request every 3 seconds
DEFAULT_USER_AGENT = "paperroute/0.1 (+https://github.com/paperroute)"
# The largest real feed page is a few MB; this only stops a runaway (or a decompression bomb).
MAX_RESPONSE_BYTES = 200 * 1024 * 1024
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_ERROR_BODY_BYTES = 64 * 1024  # an error body is only read for its excerpt
_EXCERPT_CHARS = 200
_TAG = re.compile(r"<[^>]*>")
_TEXT_SUBTYPES = ("xml", "json", "html", "javascript", "csv", "x-bibtex", "x-www-form-urlencoded")

# Worth another try: the server or the path to it may come back. Everything else in
# httpx (bad URL, unsupported scheme, too many redirects, undecodable gzip) will not.
_RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


def parse_retry_after(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header (delay-seconds or an HTTP date).

    None when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; obsolete forms may parse naive
        when = when.replace(tzinfo=dt.UTC)
    current = now if now is not None else dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


def _is_text(body: bytes, content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media:
        main, _, sub = media.partition("/")
        return main == "text" or any(sub == s or sub.endswith("+" + s) for s in _TEXT_SUBTYPES)
    # No declared type: call it text if its start is valid UTF-8 without NULs.
    head = body[:1024]
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _excerpt(response: httpx.Response, body: bytes) -> str:
    """The first ~200 characters of the body's text, or a note saying what the body was."""
    content_type = response.headers.get("content-type", "")
    if not body:
        return "(empty body)"
    if not _is_text(body, content_type):
        return f"({len(body)} bytes of {content_type or 'binary data'})"
    text = body[: 16 * 1024].decode(response.charset_encoding or "utf-8", errors="replace")
    if text.lstrip().startswith("<"):
        # The markup of an error page or Atom error feed says nothing; its text says what went
        # wrong (arXiv's 400 puts "incorrect id format for abc" ~700 bytes in).
        text = html.unescape(_TAG.sub(" ", text))
    text = " ".join(text.split())
    if len(text) > _EXCERPT_CHARS:
        text = text[:_EXCERPT_CHARS].rstrip() + "…"
    return text or "(no text in body)"


def _describe_exception(exc: Exception, host: str) -> str:
    if isinstance(exc, httpx.ConnectTimeout | httpx.ConnectError):
        return f"host {host} could not be reached ({type(exc).__name__}: {exc or 'no detail'})"
    if isinstance(exc, httpx.TimeoutException):
        return f"host {host} timed out ({type(exc).__name__})"
    return f"the connection to {host} broke ({type(exc).__name__}: {exc or 'no detail'})"


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as :meth:`HttpClient.fetch` returns it."""

    status: int
    headers: httpx.Headers
    body: bytes


class HttpClient:
    """Polite GET with retries; one instance per source so each keeps its own pace.

    Thread-safe for pacing: concurrent callers queue on the interval.
    """

    def __init__(
        self,
        *,
        min_interval: float = 0.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 300.0,
        timeout: float = 30.0,
        user_agent: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if min_interval < 0 or backoff < 0 or max_wait < 0 or timeout <= 0 or max_retries < 0:
            raise ValueError(
                "min_interval, backoff, max_wait and max_retries must be >= 0 and timeout > 0"
            )
        self.min_interval = min_interval
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self._sleep = sleep
        self._lock = threading.Lock()
        self._not_before = 0.0  # time.monotonic() before which the next request may not start
        self._client = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": user_agent or DEFAULT_USER_AGENT},
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get(self, url: str, params: Mapping[str, str] | None = None) -> bytes:
        """GET ``url`` (with ``params`` merged into its query) and return the 2xx body.

        Raises SourceError (status= the last HTTP status or None, url= the request URL).
        """
        return self.fetch(url, params).body

    def fetch(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        pass_through: frozenset[int] = frozenset(),
    ) -> Answer:
        """Like :meth:`get`, with request ``headers``, returning the status, headers and body;
        a status in ``pass_through`` (a 304 to a conditional request, a 404, a rate limit's 403
        or 429) is returned as it came, neither raised nor retried."""
        try:
            target = httpx.URL(url)
            if params:
                # httpx's own params= replaces the URL's query; callers expect a merge.
                target = target.copy_merge_params(dict(params))
            request = self._client.build_request("GET", target, headers=dict(headers or {}))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, TypeError) as exc:
            raise SourceError(f"GET {url}: invalid URL ({exc})", url=url) from exc
        full_url = str(request.url)
        host = request.url.netloc.decode("ascii", "replace") or full_url
        attempts = self.max_retries + 1
        wait = 0.0
        for attempt in range(attempts):
            self._pace(wait)
            last = attempt == attempts - 1
            try:
                response, body = self._fetch(request)
            except _RETRY_EXCEPTIONS as exc:
                reason = _describe_exception(exc, host)
                if last:
                    raise SourceError(
                        f"GET {full_url} failed after {attempts} attempt(s): {reason}",
                        url=full_url,
                    ) from exc
                wait = min(self.backoff * 2**attempt, self.max_wait)
                self._log_retry(full_url, reason, wait, attempt)
                continue
            except httpx.HTTPError as exc:
                raise SourceError(
                    f"GET {full_url} failed: {type(exc).__name__}: {exc}", url=full_url
                ) from exc

            status = response.status_code
            if 200 <= status < 300 or status in pass_through:
                return Answer(status, response.headers, body)
            where = full_url if str(response.url) == full_url else f"{full_url} -> {response.url}"
            answered = f"HTTP {status} {response.reason_phrase}".rstrip()
            if status not in RETRY_STATUSES:
                raise SourceError(
                    f"GET {where} answered {answered}: {_excerpt(response, body)}",
                    status=status,
                    url=full_url,
                )
            if last:
                raise SourceError(
                    f"GET {where} still answered {answered} after {attempts} attempt(s): "
                    f"{_excerpt(response, body)}",
                    status=status,
                    url=full_url,
                )
            header = response.headers.get("retry-after")
            told = parse_retry_after(header)
            if told is not None:
                wait = min(told, self.max_wait)
                reason = f"{answered} (Retry-After: {header})"
            else:
                wait = min(self.backoff * 2**attempt, self.max_wait)
                reason = answered
            self._log_retry(full_url, reason, wait, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover

    def _log_retry(self, url: str, reason: str, wait: float, attempt: int) -> None:
        log.warning(
            "GET %s: %s; retrying in %.1f s (retry %d of %d)",
            url,
            reason,
            wait,
            attempt + 1,
            self.max_retries,
        )

    def _pace(self, at_least: float) -> None:
        """Sleep ``at_least`` seconds, longer if the politeness interval demands; then mark a start.

        One sleep call per request, so a recorded fake sleep sees exactly the retry wait.
        """
        with self._lock:
            wait = max(at_least, self._not_before - time.monotonic())
            if wait > 0:
                if at_least <= 0:
                    log.debug("waiting %.2f s between requests (min_interval)", wait)
                self._sleep(wait)
            self._not_before = time.monotonic() + self.min_interval

    def _fetch(self, request: httpx.Request) -> tuple[httpx.Response, bytes]:
        """Send and read the body, refusing one over MAX_RESPONSE_BYTES (decoded size)."""
        limit = MAX_RESPONSE_BYTES
        response = self._client.send(request, stream=True)
        try:
            ok = response.is_success
            declared = response.headers.get("content-length", "")
            if ok and declared.isdigit() and int(declared) > limit:
                raise self._too_large(request, response, f"declares {int(declared)} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                chunks.append(chunk)
                if not ok and size >= _ERROR_BODY_BYTES:
                    break
                if size > limit:
                    raise self._too_large(request, response, f"exceeded {size} bytes")
            return response, b"".join(chunks)
        finally:
            response.close()

    @staticmethod
    def _too_large(request: httpx.Request, response: httpx.Response, detail: str) -> SourceError:
        return SourceError(
            f"GET {request.url}: response too large ({detail}; the limit is "
            f"{MAX_RESPONSE_BYTES} bytes)",
            status=response.status_code,
            url=str(request.url),
        )
