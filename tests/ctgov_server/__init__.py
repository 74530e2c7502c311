"""A fake ClinicalTrials.gov API v2 on 127.0.0.1 for offline tests (standard library only).

`FakeCtGov` serves studies held in memory under `/api/v2`, following the contract in
`shared/ctgov/spec/ctg-oas-v2.yaml` (API 2.0.5) and the pitfalls in `shared/ctgov/API-NOTES.md`:

    GET /api/v2/studies             search, paged (below)
    GET /api/v2/studies/{nctId}     one study: 200, 301 for an alias, 400 malformed id, 404 unknown
    GET /api/v2/studies/metadata    the field tree the server validates `fields` and `sort` with
    GET /api/v2/version             {"apiVersion": "2.0.5", "dataTimestamp": ...}

Errors are text/plain, JSON is application/json, any other path is a text/plain 404, and the
endpoints the fake leaves out (`/stats/*`, `/studies/enums`, `/studies/search-areas`, csv and
other non-JSON formats) answer 501 so a test never mistakes them for the real thing.

`/studies` accepts only the parameters the spec defines; any other is a 400 worded like the real
API ("`filter.phase` is unknown parameter"), and so is a repeated parameter or a bad value.
Paging follows the spec: `pageSize` 0 means 10 and above 1000 means 1000; `countTotal=true` adds
`totalCount` to the first page only; `nextPageToken` is an opaque, HMAC-signed token bound to the
query, and every later request must repeat every parameter except `pageToken`, `pageSize` and
`countTotal`. A page that is exactly full carries a token even when nothing follows, so the next
page is `{"studies": []}` (pitfall 1 of API-NOTES.md). Without `sort`, studies come in the order
they were added.

Essie subset, used by `query.*`, `filter.advanced` and `postFilter.advanced`:

* terms and "quoted phrases", case-insensitive, matched on whole words (no stemming, synonyms
  or wildcards); adjacent terms are ANDed; `AND`, `OR`, `NOT` and parentheses, with Essie's
  precedence (NOT binds tightest, then AND, then OR);
* `AREA[Piece]term` for any piece in the field tree (enum pieces such as `Phase` or
  `OverallStatus` match whole values: `AREA[Phase]PHASE2`), `AREA[Piece]MISSING`,
  `AREA[Piece]RANGE[lo,hi]` for date, numeric and age pieces (`MIN`/`MAX` allowed; a
  missing MinimumAge counts as 0 and a missing MaximumAge as no limit, other missing values
  never match),
  `AREA[LocationGeoPoint]DISTANCE[lat,lon,25mi]` and `SEARCH[Location](...)` (all terms at the
  same site);
* each `query.*` parameter searches its own area: cond = conditions, keywords and titles;
  titles = titles and acronym; intr = intervention names and other names; spons = lead sponsor
  and collaborators; lead = lead sponsor; locn = site facility, city, state and country;
  outc = outcome measures; id = NCT id, aliases, org and secondary ids; term and patient = the
  whole study. A `query.*` value made only of NCT ids selects those studies and, as the spec
  says, makes the server ignore every filter.

An expression outside this subset (another operator such as `EXPANSION[...]` or `COVERAGE[...]`,
a search area such as `AREA[ConditionSearch]`, wildcards) does not filter at all: the request
is answered as if the parameter were absent and the parameter is listed, with the reason, in
`RecordedRequest.unapplied`. The client is expected to apply its own filters locally, so a
superset is the safe answer. Broken syntax (unbalanced parentheses, brackets or quotes, a
dangling operator) is a 400. `filter.synonyms`, `aggFilters`, `geoDecay` and
`markupFormat=legacy` are likewise validated where the spec gives a pattern, recorded in
`unapplied`, and not applied. `filter.geo` is applied: a study is kept when any site with a
`geoPoint` lies within the distance, whatever that site's status (pitfall 6); a distance without
a unit is taken as miles. `postFilter.*` behave as `filter.*`.

`fields` takes piece names (`NCTId`, `LocationCity`), module or section pieces
(`IdentificationModule`, `ProtocolSection`), dotted JSON paths
(`protocolSection.identificationModule.nctId`) or `@query` (here: the whole study). Names are
case-sensitive. Each study is pruned to the chosen fields with its nesting kept; a leaf inside a
list of objects keeps the list, each element holding only that key, and elements or objects left
empty are dropped.

Faults for client tests: `fail_next` (any status, optional Retry-After and body),
`drop_next` (the connection closes without an answer), `fail_on_page` (the Nth page of a paging
run) and `delay` (seconds before each answer; `stop()` interrupts it).

The field tree comes from `shared/ctgov/spec/studies-metadata.json` when it exists, else from a
copy of its protocol-section part in `embedded.py` (`FakeCtGov.metadata_source` says which).

The modules, each importing only those above it:

    spec        the contract's paths, parameter names, statuses and value patterns
    embedded    the copy of the field tree used when the metadata file is absent
    fields      the field tree (pieces, dotted paths) and `fields` pruning
    values      words, enum keys, dates, ages, numbers and distances as Essie compares them
    essie       the Essie subset's tokenizer, parser and syntax tree
    matching    whether a study matches a parsed expression
    studies     `make_study`, `make_studies`, `load_record_studies`, `normalize_nct_id`
    messages    `RecordedRequest`, responses, HTTP errors and injected faults
    tokens      the opaque, HMAC-signed page tokens
    plan        validation of /studies parameters into a plan
    search      a plan applied: filtering and sorting
    server      `FakeCtGov` and its HTTP server and handler
"""

from __future__ import annotations

from .fields import DEFAULT_METADATA_PATH
from .messages import RecordedRequest
from .server import FakeCtGov
from .spec import API_PREFIX, API_VERSION, STATUSES, STUDIES_PARAMS, STUDY_PARAMS
from .studies import load_record_studies, make_studies, make_study, normalize_nct_id

__all__ = [
    "API_PREFIX",
    "API_VERSION",
    "DEFAULT_METADATA_PATH",
    "STATUSES",
    "STUDIES_PARAMS",
    "STUDY_PARAMS",
    "FakeCtGov",
    "RecordedRequest",
    "load_record_studies",
    "make_studies",
    "make_study",
    "normalize_nct_id",
]
