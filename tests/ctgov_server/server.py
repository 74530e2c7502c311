"""The HTTP side: `FakeCtGov` (data, faults, life cycle, routing) and its loopback server."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from .fields import _FieldIndex, _prune_study
from .messages import (
    RecordedRequest,
    _bad,
    _Fault,
    _HttpError,
    _PageFault,
    _Response,
    _send_slowly,
)
from .plan import _check_known, _check_markup, _parse_fields, _plan, _unique_params
from .search import _filtered, _sorted
from .spec import _METADATA_PARAMS, API_PREFIX, API_VERSION, STUDY_PARAMS
from .studies import _nct_of, normalize_nct_id
from .tokens import _make_token


class _Server(ThreadingHTTPServer):
    # Join handler threads on close (ThreadingHTTPServer makes them daemons and forgets them),
    # so nothing outlives stop(); stop() unblocks idle keep-alive connections first.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeCtGov) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn, a reverse DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.open_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self.open_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away (timeouts, dropped connections)
        self.fake.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "FakeCtGov/1.0"
    sys_version = ""
    timeout = 30  # a backstop; stop() closes idle connections itself
    # Headers and body go out in two writes; with Nagle on, a keep-alive client waits for the
    # delayed ACK (~40 ms) on every request.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeCtGov:
    """A fake ClinicalTrials.gov API v2 on 127.0.0.1 (see the package docstring).

    Use it as a context manager, or `start()` and `stop()`; `base_url` ends in `/api/v2`.
    Every request lands in `requests`; an exception inside the fake lands in `errors` (and the
    request gets a 500), so tests can tell a fake's bug from a client's. Other attributes:
    `delay` (seconds to wait before each answer), `data_timestamp` (what /version reports),
    `metadata_source` (the metadata file used, None for the embedded copy), `studies` and
    `memo`: when True, each search's matches (filtered and sorted) are kept by the request's
    bound parameters and later pages are cut from them, as a real server's index would; for
    data that does not change in place (the benchmark: filtering and sorting 20,000 studies
    for every page cost the fake 0.3 to 0.7 s of CPU a page, on the client's cores). Each
    study's field values are kept too, for searches of other parameters (the date slices of a
    sliced search: 0.16-0.29 -> 0.12-0.23 s a first page). Adding or loading studies clears
    the memo.
    """

    def __init__(
        self, studies: Sequence[Mapping[str, Any]] = (), *, metadata_path: Path | None = None
    ) -> None:
        self._index, self.metadata_source = _FieldIndex.load(metadata_path)
        self._lock = threading.Lock()
        self._studies: dict[str, dict[str, Any]] = {}
        self._aliases: dict[str, str] = {}
        self._faults: deque[_Fault] = deque()
        self._page_faults: list[_PageFault] = []
        self._secret = secrets.token_bytes(32)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.delay: float = 0.0
        self.data_timestamp = "2026-01-02T03:04:05"
        self._hooks: list[tuple[int, Callable[[], object]]] = []
        self.memo = False
        self._matches: dict[bytes, list[dict[str, Any]]] = {}
        self._values: dict[Any, Any] = {}  # memo: each study's field values, by id and path
        self.add_studies(studies)

    # -- data ---------------------------------------------------------------------------------

    def add_studies(self, studies: Iterable[Mapping[str, Any]]) -> None:
        """Add studies (deep copies); a study whose NCT id is already here replaces it in place."""
        added = [(_nct_of(s), json.loads(json.dumps(s))) for s in studies]
        with self._lock:
            self._matches.clear()
            self._values.clear()
            for nct, study in added:
                self._studies[nct] = study
                aliases = study["protocolSection"]["identificationModule"].get("nctIdAliases", [])
                for alias in aliases:
                    normalized = normalize_nct_id(str(alias))
                    if normalized is not None:
                        self._aliases[normalized] = nct

    def load(
        self,
        studies: Iterable[Mapping[str, Any]] = (),
        *,
        remove: Iterable[str] = (),
    ) -> str:
        """A data load: add or replace studies, remove some (then 404), and move the
        `dataTimestamp` forward a day, as the registry does. Returns the new timestamp."""
        self.add_studies(studies)
        with self._lock:
            self._matches.clear()
            self._values.clear()
            for nct in remove:
                self._studies.pop(nct, None)
            when = dt.datetime.fromisoformat(self.data_timestamp) + dt.timedelta(days=1)
            self.data_timestamp = when.isoformat()
            return self.data_timestamp

    def before_request(self, count: int, action: Callable[[], object]) -> None:
        """Run `action` once, just before the `count`-th request from now is answered (for a
        data load in the middle of a client's run)."""
        with self._lock:
            self._hooks.append((len(self.requests) + count, action))

    @property
    def studies(self) -> list[dict[str, Any]]:
        """The studies served, in the order added."""
        with self._lock:
            return list(self._studies.values())

    # -- faults -------------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> None:
        """Answer the next `times` requests, whatever they are, with `status` (text/plain).

        `retry_after` becomes the Retry-After header; `body` defaults to the reason phrase.
        Faults queue in the order they are set, with `drop_next`.
        """
        with self._lock:
            self._faults.extend(_Fault(status, retry_after, body) for _ in range(times))

    def drop_next(self, times: int = 1) -> None:
        """Close the connection of the next `times` requests without answering."""
        with self._lock:
            self._faults.extend(_Fault(None) for _ in range(times))

    def trickle_next(self, interval: float = 1.0, *, times: int = 1, headers: bool = False) -> None:
        """Answer the next `times` requests rightly, but slowly: the headers at once (or, with
        `headers`, a byte at a time too), then the body one byte every `interval` seconds (a
        read timeout never fires on such a server)."""
        with self._lock:
            self._faults.extend(
                _Fault(200, trickle=interval, trickle_headers=headers) for _ in range(times)
            )

    def fail_on_page(
        self,
        page_number: int,
        status: int,
        times: int = 1,
        *,
        retry_after: str | None = None,
        body: str | None = None,
    ) -> None:
        """Fail the next `times` valid /studies requests for page `page_number` (1 = first).

        The page number is carried in the page token, so retries of that page fail until
        `times` is used up, in whichever paging run reaches it first.
        """
        if page_number < 1 or times < 1:
            raise ValueError("page_number and times start at 1")
        with self._lock:
            self._page_faults.append(
                _PageFault(page_number, times, _Fault(status, retry_after, body))
            )

    # -- life cycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT/api/v2`, once started."""
        if self._server is None:
            raise RuntimeError("FakeCtGov is not started")
        return f"http://127.0.0.1:{self._server.server_port}{API_PREFIX}"

    def start(self) -> FakeCtGov:
        """Bind 127.0.0.1 on a free port and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeCtGov is already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="FakeCtGov",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every connection and join every thread; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()  # wakes handlers sleeping in `delay`
        server.shutdown()
        server.close_open_connections()
        server.server_close()
        if thread is not None:
            thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeCtGov:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        arrival = time.monotonic()
        split = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(split.path)
        pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        record = RecordedRequest(
            method=handler.command,
            path=path,
            params=dict(pairs),
            headers={name.lower(): value for name, value in handler.headers.items()},
            time=arrival,
            query=split.query,
        )
        with self._lock:
            self.requests.append(record)
            due = [h for h in self._hooks if h[0] <= len(self.requests)]
            self._hooks = [h for h in self._hooks if h[0] > len(self.requests)]
        for _, action in due:
            action()  # may change the data or queue a fault for this very request
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if self.delay > 0 and self._stopping.wait(self.delay):
            fault = _Fault(None)  # stopping: do not answer late
        if fault is not None and fault.status is None:
            handler.close_connection = True
            return
        if fault is not None and fault.trickle is None:
            response = fault.response()
        else:
            try:
                response = self._route(handler.command, path, pairs, record)
            except _HttpError as error:
                response = error.response
            except Exception:
                trace = traceback.format_exc()
                self.errors.append(trace)
                response = _Response.text(500, "FakeCtGov internal error\n" + trace)
        if handler.command != "GET":
            handler.close_connection = True  # the body, if any, was not read
        record.status = response.status
        if fault is not None and fault.trickle is not None:
            handler.close_connection = True
            _send_slowly(
                handler, response, fault.trickle, self._stopping, headers_too=fault.trickle_headers
            )
        else:
            self._send(handler, response)

    @staticmethod
    def _send(handler: _Handler, response: _Response) -> None:
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.content_type)
            handler.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                handler.send_header(name, value)
            if handler.close_connection:  # said, so that no client sends another request on it
                handler.send_header("Connection", "close")
            handler.end_headers()
            handler.wfile.write(response.body)
            handler.wfile.flush()
        except OSError:
            handler.close_connection = True

    def _route(
        self, method: str, path: str, pairs: list[tuple[str, str]], record: RecordedRequest
    ) -> _Response:
        if not path.startswith(API_PREFIX + "/"):
            raise _HttpError(404, f"Not Found: {path}")
        rest = path[len(API_PREFIX) :]
        if method != "GET":
            return _Response.text(405, "Method Not Allowed", [("Allow", "GET")])
        params = _unique_params(pairs)
        if rest == "/version":
            _check_known(params, frozenset())
            return _Response.json({"apiVersion": API_VERSION, "dataTimestamp": self.data_timestamp})
        if rest == "/studies":
            return self._list_studies(params, record)
        if rest == "/studies/metadata":
            _check_known(params, _METADATA_PARAMS)
            return _Response.json(self._index.tree)
        if rest in ("/studies/search-areas", "/studies/enums") or rest.startswith("/stats/"):
            raise _HttpError(501, f"{path} is not implemented by FakeCtGov")
        match = re.fullmatch(r"/studies/([^/]+)", rest)
        if match:
            return self._fetch_study(match.group(1), params, record)
        raise _HttpError(404, f"Not Found: {path}")

    def _fetch_study(
        self, raw_id: str, params: dict[str, str], record: RecordedRequest
    ) -> _Response:
        _check_known(params, STUDY_PARAMS)
        fmt = params.get("format", "json")
        if fmt not in ("csv", "json", "json.zip", "fhir.json", "ris"):
            raise _bad(f"`format` must be one of csv, json, json.zip, fhir.json, ris: {fmt!r}")
        if fmt != "json":
            raise _HttpError(501, f"format {fmt} is not implemented by FakeCtGov")
        _check_markup(params, record)
        selection = _parse_fields(self._index, params)
        nct = normalize_nct_id(raw_id)
        if nct is None:
            raise _bad(f"Invalid NCT number `{raw_id}`: expected NCT followed by 8 digits")
        with self._lock:
            study = self._studies.get(nct)
            target = self._aliases.get(nct)
        if study is None and target is not None and target != nct:
            query = urllib.parse.urlencode(params)
            location = f"{API_PREFIX}/studies/{target}" + (f"?{query}" if query else "")
            return _Response.text(301, f"Moved Permanently: {target}", [("Location", location)])
        if study is None:
            raise _HttpError(404, f"Study {nct} not found")
        return _Response.json(_prune_study(study, selection))

    def _list_studies(self, params: dict[str, str], record: RecordedRequest) -> _Response:
        plan = _plan(self._index, self._secret, params, record)
        page_fault = self._take_page_fault(plan.page_index + 1)
        if page_fault is not None:
            return page_fault.response()
        matches = self._matches.get(plan.signature) if self.memo else None
        if matches is None:
            with self._lock:
                studies = list(self._studies.values())
            values = self._values if self.memo else None
            matches = _sorted(_filtered(studies, plan, values), plan.sort, values)
            if self.memo:
                self._matches[plan.signature] = matches
        page = matches[plan.offset : plan.offset + plan.page_size]
        body: dict[str, Any] = {"studies": [_prune_study(s, plan.selection) for s in page]}
        if plan.count_total and plan.page_index == 0:
            body["totalCount"] = len(matches)
        # Pitfall 1: a full page carries a token even when no study follows it.
        if len(page) == plan.page_size:
            body["nextPageToken"] = _make_token(
                self._secret, plan.signature, plan.offset + len(page), plan.page_index + 1
            )
        return _Response.json(body)

    def _take_page_fault(self, page_number: int) -> _Fault | None:
        with self._lock:
            for page_fault in self._page_faults:
                if page_fault.page_number == page_number and page_fault.remaining > 0:
                    page_fault.remaining -= 1
                    return page_fault.fault
        return None
